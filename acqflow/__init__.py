"""acqflow: a dataflow engine for real-time acquisition (pyacq's API family)."""
from .errors import Error
from .dataflow import (ChannelSplitter, ChunkResizer, InputStream, Node, NodeStateError,
                       OutputStream, OverrunError, ProcessingNode, RingBuffer, StreamClosed,
                       StreamConverter, StreamError, ThreadPollInput, get_node_type,
                       node_type_names, node_types, register_node_type)
from .rpc import ObjectProxy, ProcessSpawner, RPCClient, RPCServer  # pyacq's top-level RPC names

__version__ = "0.1.0"

__all__ = ["Error", "InputStream", "OutputStream", "RingBuffer", "StreamError", "StreamClosed",
           "OverrunError", "ThreadPollInput", "StreamConverter", "ChannelSplitter", "ChunkResizer",
           "Node", "NodeStateError", "ProcessingNode", "register_node_type", "get_node_type",
           "node_types", "node_type_names",
           "RPCServer", "RPCClient", "ProcessSpawner", "ObjectProxy", "QtRPCServer"]


def __getattr__(name: str):
    """Names imported on first use: QtRPCServer pulls Qt."""
    if name == "QtRPCServer":
        from .rpc.qtserver import QtRPCServer
        return QtRPCServer
    raise AttributeError(f"module 'acqflow' has no attribute {name!r}")
