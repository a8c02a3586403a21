"""pyacq's ``pyacq.core.tools``: ThreadPollInput, ThreadPollOutput, StreamConverter,
ChannelSplitter, ChunkResizer.

ThreadPollInput is acqflow's with ``wait(ms)`` as QThread's (``new_data`` reaches a running Qt loop's thread, once the
Qt dispatcher is installed: importing this module installs it when PyQt5 is importable).
StreamConverter, ChannelSplitter and ChunkResizer are acqflow's (``acqflow.StreamConverter``,
the node types of the same names), Nodes as in pyacq: ``configure()``, connect ``input``, configure the outputs (a bare
``configure()`` inherits the input's params), ``initialize()``, ``start()``.
"""
from __future__ import annotations

from typing import Any

from ....dataflow import threadpoll
from ....dataflow.inputstream import InputStream
from ....nodes.relay_nodes import ChannelSplitter, ChunkResizer, StreamConverter

__all__ = ["ThreadPollInput", "ThreadPollOutput", "StreamConverter", "ChannelSplitter",
           "ChunkResizer"]


def _install_qt_dispatch() -> None:
    try:
        from ....viewers import qtdispatch
    except ImportError:          # no Qt: callbacks run in the polling thread
        return
    qtdispatch.install()


_install_qt_dispatch()


class ThreadPollInput(threadpoll.ThreadPollInput):
    """acqflow's ThreadPollInput with pyacq's constructor (``parent`` is accepted) and ``pos()``."""

    def __init__(self, input_stream, timeout: float = 200, return_data: bool | None = None,
                 parent: Any = None):
        super().__init__(input_stream, timeout=timeout, return_data=return_data)
        self._pos: int | None = None

    def process_data(self, pos: int, data) -> None:
        self._pos = pos
        super().process_data(pos, data)

    def pos(self) -> int | None:
        """Index of the last chunk received."""
        return self._pos

    def wait(self, timeout: float | None = None) -> bool:
        """pyacq's (QThread's) wait: ``timeout`` in ms (None: forever); True once ended."""
        return super().wait(None if timeout is None else timeout / 1000.0)


class ThreadPollOutput(ThreadPollInput):
    """Watches an OutputStream through an InputStream of its own."""

    def __init__(self, output_stream, **kargs: Any):
        self.instream = InputStream()
        self.instream.connect(output_stream)
        super().__init__(self.instream, **kargs)
