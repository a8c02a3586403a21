"""acqflow: a dataflow engine for real-time acquisition (pyacq's API family)."""
from .dataflow import (ChannelSplitter, ChunkResizer, InputStream, Node, NodeStateError,
                       OutputStream, OverrunError, ProcessingNode, RingBuffer, StreamClosed,
                       StreamConverter, StreamError, ThreadPollInput, get_node_type,
                       node_type_names, node_types, register_node_type)

__version__ = "0.1.0"

__all__ = ["InputStream", "OutputStream", "RingBuffer", "StreamError", "StreamClosed",
           "OverrunError", "ThreadPollInput", "StreamConverter", "ChannelSplitter", "ChunkResizer",
           "Node", "NodeStateError", "ProcessingNode", "register_node_type", "get_node_type",
           "node_types", "node_type_names"]
