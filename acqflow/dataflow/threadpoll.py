"""ThreadPollInput: a thread that hands each chunk of an InputStream to a callback."""
from __future__ import annotations

import logging
import sys
import threading
from typing import Callable

from .errors import StreamClosed

__all__ = ["Signal", "ThreadPollInput", "set_loop_dispatcher", "loop_dispatcher"]

log = logging.getLogger(__name__)

#: ``dispatch(callback, args, on_exception) -> bool``: run ``callback(*args)`` in the thread of
#: a running GUI event loop (passing what it raises to ``on_exception``) and return True, or
#: return False when no loop runs.  The Qt layer
#: installs one (acqflow.viewers.qtdispatch); dataflow itself never imports Qt.
_dispatcher: Callable[[Callable, tuple, Callable], bool] | None = None


def set_loop_dispatcher(dispatch: Callable[[Callable, tuple, Callable], bool] | None) -> None:
    """Install (or remove, with None) the hook that delivers ``new_data`` in an event loop."""
    global _dispatcher
    _dispatcher = dispatch


def loop_dispatcher() -> Callable[[Callable, tuple, Callable], bool] | None:
    """The installed event-loop dispatcher, if any."""
    return _dispatcher


class Signal:
    """A Qt-free signal: ``connect(callback)`` then ``emit(*args)`` calls every callback."""

    def __init__(self):
        self._slots: list[Callable] = []
        self._lock = threading.Lock()

    def connect(self, slot: Callable) -> None:
        with self._lock:
            self._slots.append(slot)

    def disconnect(self, slot: Callable) -> None:
        with self._lock:
            self._slots.remove(slot)

    def emit(self, *args) -> None:
        with self._lock:
            slots = list(self._slots)
        for slot in slots:
            slot(*args)


class ThreadPollInput(threading.Thread):
    """Polls ``input_stream`` and calls ``process_data(index, data)`` for each chunk.

    The default ``process_data`` emits ``new_data(index, data)``: in the thread of a
    running Qt event loop when there is one (as pyacq's Qt signal does; see
    :func:`set_loop_dispatcher`), else in this thread.  Subclasses may override
    ``process_data`` (it then runs in this thread).  The thread ends on stop(), when the
    output closes (``closed`` set) or when a callback raises: the exception is kept in
    ``error``, passed as a message to ``on_error`` if set, and otherwise raised to
    ``threading.excepthook`` (or, for a callback run by the event loop, to
    ``sys.excepthook`` as a Qt slot's exception is): never swallowed.  ``timeout`` is in
    ms and bounds how long stop() waits.
    """

    on_error: Callable[[str], None] | None = None

    def __init__(self, input_stream, timeout: float = 200, return_data: bool | None = None,
                 name: str | None = None):
        super().__init__(name=name or f"ThreadPollInput {input_stream.name or ''}", daemon=True)
        self.input_stream = input_stream
        self.timeout = timeout
        self.return_data = return_data
        self.new_data = Signal()
        self.closed = False
        self.error: BaseException | None = None
        self._running = threading.Event()

    def run(self) -> None:
        self._running.set()
        try:
            while self._running.is_set():
                if not self.input_stream.poll(self.timeout):
                    continue
                try:
                    index, data = self.input_stream.recv(timeout=self.timeout,
                                                         return_data=self.return_data)
                except StreamClosed:
                    self.closed = True
                    break
                self.process_data(index, data)
        except BaseException as exc:   # reported, never swallowed silently
            self.error = exc
            if self.on_error is None:
                raise                  # to threading.excepthook
            self.on_error(f"{type(exc).__name__}: {exc}")
        finally:
            self._running.clear()

    def process_data(self, index: int, data) -> None:
        dispatch = _dispatcher
        if dispatch is None or not dispatch(self.new_data.emit, (index, data), self._loop_error):
            self.new_data.emit(index, data)

    def _loop_error(self, exc: BaseException) -> None:
        """A callback run by the event loop raised: keep it, stop polling, and report it
        to ``on_error`` or else to ``sys.excepthook`` (what Qt does with a slot's)."""
        if self.error is None:
            self.error = exc
        self.stop()
        if self.on_error is not None:
            self.on_error(f"{type(exc).__name__}: {exc}")
        else:
            sys.excepthook(type(exc), exc, exc.__traceback__)

    def is_running(self) -> bool:
        return self._running.is_set()

    def stop(self) -> None:
        """Ask the thread to finish after the chunk in hand (wait() or join() to wait for it)."""
        self._running.clear()

    def wait(self, timeout: float | None = None) -> bool:
        """pyacq's (QThread's) wait: join, ``timeout`` in ms (None: forever); True once ended."""
        if self.ident is None:        # never started: nothing to wait for
            return True
        self.join(None if timeout is None else timeout / 1000.0)
        return not self.is_alive()
