"""dataflow: streams (the `streams` subpackage) and the graph model built on them (`graph`).

This layer imports numpy and pyzmq only: no Qt, scipy, cv2, sounddevice or rpc.
"""
from .errors import OverrunError, StreamClosed, StreamError
from .streams.inputstream import InputStream
from .graph.graphspec import GraphError, GraphSpec, load_graph
from .graph.node import STATES, Node, NodeStateError
from .graph.nodegroup import NodeGroup
from .streams.outputstream import OutputStream
from .graph.processing import ProcessingNode
from .graph.registry import get_node_type, node_type_names, node_types, register_node_type
from .graph.relays import ChannelSplitter, ChunkResizer, StreamConverter
from .streams.ringbuffer import RingBuffer
from .streams.spec import DEFAULT_PARAMS, STREAMTYPES, make_dtype
from .streams.threadpoll import Signal, ThreadPollInput

__all__ = ["InputStream", "OutputStream", "RingBuffer", "StreamError", "StreamClosed",
           "OverrunError", "DEFAULT_PARAMS", "STREAMTYPES", "make_dtype", "Signal",
           "ThreadPollInput", "StreamConverter", "ChannelSplitter", "ChunkResizer",
           "Node", "NodeStateError", "STATES", "ProcessingNode", "register_node_type",
           "get_node_type", "node_types", "node_type_names", "NodeGroup", "GraphSpec",
           "GraphError", "load_graph"]
