"""pyacq.core.stream: streams, ring buffers, shared arrays and stream helpers (aliases
onto :mod:`acqflow.dataflow`; pyacq-only behaviour lives in :mod:`.stream`)."""
from ..tools import ThreadPollInput
from acqflow.dataflow import (ChannelSplitter, ChunkResizer, OverrunError, StreamClosed,
                              StreamConverter, StreamError)
from acqflow.dataflow.spec import make_dtype

from .ringbuffer import RingBuffer
from .sharedarray import SharedArray, SharedMem
from .stream import InputStream, OutputStream, compression_methods, default_stream
from .streamhelpers import DataReceiver, DataSender, all_transfermodes, register_transfermode

__all__ = ["OutputStream", "InputStream", "RingBuffer", "SharedArray", "SharedMem",
           "StreamConverter", "ChannelSplitter", "ChunkResizer", "ThreadPollInput",
           "StreamError", "StreamClosed", "OverrunError", "compression_methods", "default_stream",
           "make_dtype", "DataSender", "DataReceiver", "all_transfermodes", "register_transfermode"]


def __getattr__(name: str):
    """ThreadPollInput is pyacq.core.tools' (``wait`` in ms, as QThread's), imported on first use."""
    if name == "ThreadPollInput":
        from ..tools import ThreadPollInput
        return ThreadPollInput
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
