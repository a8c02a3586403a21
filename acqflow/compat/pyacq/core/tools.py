"""pyacq's ``pyacq.core.tools``: ThreadPollInput, ThreadPollOutput, StreamConverter,
ChannelSplitter, ChunkResizer.

ThreadPollInput is acqflow's with pyacq's Qt-signal delivery: ``new_data`` reaches a running
Qt loop's thread (:mod:`acqflow.compat.pyacq.qtdispatch`; without a loop, or without Qt, the
polling thread) and ``wait()`` takes ms, as QThread's.  StreamConverter, ChannelSplitter and
ChunkResizer are acqflow's (``acqflow.StreamConverter``, the node types of the same names),
Nodes as in pyacq: ``configure()``, connect ``input``, configure the outputs (a bare
``configure()`` inherits the input's params), ``initialize()``, ``start()``.
"""
from __future__ import annotations

import functools
import sys
from typing import Any, Callable

from ....dataflow import threadpoll
from ....dataflow.inputstream import InputStream
from ....nodes.relay_nodes import ChannelSplitter, ChunkResizer, StreamConverter

__all__ = ["ThreadPollInput", "ThreadPollOutput", "StreamConverter", "ChannelSplitter",
           "ChunkResizer"]


@functools.cache
def _qt_dispatch() -> Callable[[Callable, tuple, Callable], bool] | None:
    """The Qt dispatch, imported on first use (importing pyacq's modules imports no Qt)."""
    try:
        from ..qtdispatch import dispatch
    except ImportError:          # no Qt: callbacks run in the polling thread
        return None
    return dispatch


class ThreadPollInput(threadpoll.ThreadPollInput):
    """acqflow's ThreadPollInput with pyacq's constructor (``parent`` is accepted), ``pos()``,
    ``wait(ms)`` and ``new_data`` emitted in the thread of a running Qt loop.

    A slot's exception is never swallowed: it is kept in ``error``, polling stops, and it
    goes to ``on_error`` if set, else to ``sys.excepthook`` (where Qt sends a slot's)."""

    def __init__(self, input_stream, timeout: float = 200, return_data: bool | None = None,
                 parent: Any = None):
        super().__init__(input_stream, timeout=timeout, return_data=return_data)
        self._pos: int | None = None
        self._dispatch = _qt_dispatch()

    def process_data(self, pos: int, data) -> None:
        self._pos = pos
        dispatch = self._dispatch
        if dispatch is None or not dispatch(self.new_data.emit, (pos, data), self._loop_error):
            self.new_data.emit(pos, data)

    def _loop_error(self, exc: BaseException) -> None:
        """A slot run by the Qt loop raised: keep it, stop polling, report it."""
        if self.error is None:
            self.error = exc
        self.stop()
        if self.on_error is not None:
            self.on_error(f"{type(exc).__name__}: {exc}")
        else:
            sys.excepthook(type(exc), exc, exc.__traceback__)

    def pos(self) -> int | None:
        """Index of the last chunk received."""
        return self._pos

    def wait(self, timeout: float | None = None) -> bool:
        """QThread's wait: ``timeout`` in ms (None: forever); True once the thread ended."""
        if self.ident is None:        # never started: nothing to wait for
            return True
        self.join(None if timeout is None else timeout / 1000.0)
        return not self.is_alive()


class ThreadPollOutput(ThreadPollInput):
    """Watches an OutputStream through an InputStream of its own."""

    def __init__(self, output_stream, **kargs: Any):
        self.instream = InputStream()
        self.instream.connect(output_stream)
        super().__init__(self.instream, **kargs)
