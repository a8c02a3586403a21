"""ThreadPollInput: a thread that hands each chunk of an InputStream to a callback."""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable

from ..errors import StreamClosed

if TYPE_CHECKING:
    from .inputstream import InputStream

__all__ = ["Signal", "StoppableThread", "ThreadPollInput"]

log = logging.getLogger(__name__)

class Signal:
    """A Qt-free signal: ``connect(callback)`` then ``emit(*args)`` calls every callback."""

    def __init__(self) -> None:
        self._slots: list[Callable] = []
        self._lock = threading.Lock()

    def connect(self, slot: Callable) -> None:
        """Call ``slot(*args)`` on every emit() (slots run in the emitting thread, in order)."""
        with self._lock:
            self._slots.append(slot)

    def disconnect(self, slot: Callable) -> None:
        """Stop calling ``slot``; ValueError if it was not connected."""
        with self._lock:
            self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        """Call every connected slot with ``args``, in the order they were connected."""
        with self._lock:
            slots = list(self._slots)
        for slot in slots:
            slot(*args)


class StoppableThread(threading.Thread):
    """A daemon thread running ``loop()`` until ``stop()``: the one base of acqflow's workers.

    What ``loop()`` raises is kept in ``error`` and passed as a one-line message to
    ``on_error`` if set, otherwise raised to ``threading.excepthook``: never swallowed.
    ``loop()`` checks the ``stopping`` event (set by ``stop()``, which does not wait);
    ``wait(s)`` / ``join(s)`` wait for the end.
    """

    on_error: Callable[[str], None] | None = None

    def __init__(self, name: str, on_error: Callable[[str], None] | None = None):
        super().__init__(name=name, daemon=True)
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        if on_error is not None:
            self.on_error = on_error

    def loop(self) -> None:
        """The thread's work (subclasses): run until ``stopping`` is set."""
        raise NotImplementedError

    def run(self) -> None:
        try:
            self.loop()
        except BaseException as exc:   # reported, never swallowed silently
            self.report(exc)

    def report(self, exc: BaseException) -> None:
        """Keep ``exc`` (the first one) and tell ``on_error``; without one, raise it (from
        ``run``, to ``threading.excepthook``)."""
        if self.error is None:
            self.error = exc
        if self.on_error is None:
            raise exc
        self.on_error(f"{type(exc).__name__}: {exc}")

    def is_running(self) -> bool:
        """Started, not yet ended and not asked to stop."""
        return self.is_alive() and not self.stopping.is_set()

    def stop(self) -> None:
        """Ask the loop to finish (wait() or join() to wait for it)."""
        self.stopping.set()

    def wait(self, timeout: float | None = None) -> bool:
        """join, ``timeout`` in seconds as join's (None: forever); True once ended (pyacq's
        QThread-style ``wait(ms)`` is ``pyacq.core.tools.ThreadPollInput.wait``)."""
        if self.ident is None:        # never started: nothing to wait for
            return True
        self.join(timeout)
        return not self.is_alive()


class ThreadPollInput(StoppableThread):
    """Polls ``input_stream`` and hands each chunk to ``on_data(index, data)``.

    The one worker shape of nodes, viewers and relays.  Without ``on_data`` each chunk
    is emitted as ``new_data(index, data)``; ``on_data`` (or a subclass's ``process_data``),
    and ``new_data``'s slots, run in this thread (pyacq's Qt-loop delivery is
    ``pyacq.core.tools.ThreadPollInput``'s, in acqflow.compat).  The thread ends on stop(),
    when the output closes (``closed`` set, then ``on_end()`` runs in this thread) or when
    a callback raises (see :class:`StoppableThread`).  ``timeout`` is the poll step in ms
    (streams' unit): how long the thread takes at most to notice stop().
    """

    def __init__(self, input_stream: InputStream, timeout: float = 200, return_data: bool | None = None,
                 name: str | None = None, *, on_data: Callable[[int, Any], None] | None = None,
                 on_end: Callable[[], None] | None = None,
                 on_error: Callable[[str], None] | None = None):
        super().__init__(name or f"ThreadPollInput {input_stream.name or ''}", on_error)
        self.input_stream = input_stream
        self.timeout = timeout
        self.return_data = return_data
        self.new_data = Signal()
        self.closed = False
        if on_data is not None:
            self.process_data = on_data        # type: ignore[method-assign,assignment]  # no indirection
        self.on_end = on_end

    def loop(self) -> None:
        """Poll the input and hand each chunk to process_data() until stopped or the stream ends
        (then call ``on_end``)."""
        # the hot path: nothing per chunk beyond poll, recv and the callback
        stopping, poll, recv = self.stopping, self.input_stream.poll, self.input_stream.recv
        timeout, return_data = self.timeout, self.return_data
        while not stopping.is_set():
            if not poll(timeout):
                continue
            try:
                index, data = recv(timeout=timeout, return_data=return_data)
            except StreamClosed:
                self.closed = True
                break
            self.process_data(index, data)
        if self.closed and self.on_end is not None:
            self.on_end()

    def process_data(self, index: int, data: Any) -> None:
        """Handle one received chunk: emit ``new_data(index, data)``; subclasses override
        it to do their work here."""
        self.new_data.emit(index, data)
