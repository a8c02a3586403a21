"""Streams, wire format, ring buffers, shared memory and stream helpers.

This layer imports numpy and pyzmq only: no Qt, scipy, cv2, sounddevice or rpc.
"""
from .errors import OverrunError, StreamClosed, StreamError
from .inputstream import InputStream
from .graph import GraphError, GraphSpec, load_graph
from .node import STATES, Node, NodeStateError
from .nodegroup import NodeGroup
from .outputstream import OutputStream
from .processing import ProcessingNode
from .registry import get_node_type, node_type_names, node_types, register_node_type
from .relaynodes import ChannelSplitter, ChunkResizer, StreamConverter
from .ringbuffer import RingBuffer
from .spec import DEFAULT_PARAMS, STREAMTYPES, make_dtype
from .threadpoll import Signal, ThreadPollInput

__all__ = ["InputStream", "OutputStream", "RingBuffer", "StreamError", "StreamClosed",
           "OverrunError", "DEFAULT_PARAMS", "STREAMTYPES", "make_dtype", "Signal",
           "ThreadPollInput", "StreamConverter", "ChannelSplitter", "ChunkResizer",
           "Node", "NodeStateError", "STATES", "ProcessingNode", "register_node_type",
           "get_node_type", "node_types", "node_type_names", "NodeGroup", "GraphSpec",
           "GraphError", "load_graph"]
