"""ThreadPollInput: a thread that hands each chunk of an InputStream to a callback."""
from __future__ import annotations

import logging
import threading
from typing import Callable

from .errors import StreamClosed

__all__ = ["Signal", "ThreadPollInput"]

log = logging.getLogger(__name__)


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

    The default ``process_data`` emits ``new_data``; subclass it or connect to the
    signal.  The thread ends on stop(), when the output closes (``closed`` set) or
    when the callback raises (kept in ``error``, logged, and passed as a message
    to ``on_error`` if set).  ``timeout`` is in ms and bounds how long stop() waits.
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
            log.exception("%s stopped on an error", self.name)
            if self.on_error is not None:
                self.on_error(f"{type(exc).__name__}: {exc}")
        finally:
            self._running.clear()

    def process_data(self, index: int, data) -> None:
        self.new_data.emit(index, data)

    def is_running(self) -> bool:
        return self._running.is_set()

    def stop(self) -> None:
        """Ask the thread to finish after the chunk in hand (join() to wait for it)."""
        self._running.clear()
