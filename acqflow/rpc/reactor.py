"""Per-thread event loop: polls this thread's RPC server and client sockets together.

Whenever a thread waits for a reply (a sync call, ``Future.result()``) it
keeps serving requests that arrive for the servers registered in the same
thread; that is what makes ``run_lazy()`` and re-entrant calls work.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

import zmq

__all__ = ["Reactor"]

_local = threading.local()
_CHECK_INTERVAL = 0.2


class Reactor:
    """Polls the sockets registered by the current thread and runs their handlers."""

    def __init__(self) -> None:
        self.thread_id = threading.get_ident()
        self.poller = zmq.Poller()
        self.handlers: dict[zmq.Socket, Callable[[], None]] = {}
        self.idle_hooks: list[Callable[[], None]] = []
        # the sockets that must be served whenever this thread waits (servers'), as
        # opposed to those whose messages may wait until their owner reads them (clients')
        self._urgent: set[zmq.Socket] = set()

    @classmethod
    def current(cls) -> Reactor:
        """The reactor of the calling thread (created on first use)."""
        reactor = getattr(_local, "reactor", None)
        if reactor is None:
            reactor = _local.reactor = cls()
        return reactor

    def add(self, sock: zmq.Socket, handler: Callable[[], None], urgent: bool = True) -> None:
        """Call ``handler()`` whenever ``sock`` is readable while this thread waits.
        ``urgent=False``: its messages (a client's replies) may also wait in the socket
        until their owner reads them, so a sync call may wait on its own socket alone."""
        if sock not in self.handlers:
            self.poller.register(sock, zmq.POLLIN)
        self.handlers[sock] = handler
        if urgent:
            self._urgent.add(sock)
        else:
            self._urgent.discard(sock)

    def remove(self, sock: zmq.Socket) -> None:
        """Stop polling ``sock``."""
        if self.handlers.pop(sock, None) is not None:
            self.poller.unregister(sock)
        self._urgent.discard(sock)

    def serves(self) -> bool:
        """True while this thread must keep serving requests when it waits (a server
        runs here, lazily or not): a sync call then waits through :meth:`wait`."""
        return bool(self._urgent)

    def process(self, timeout: float | None) -> bool:
        """Poll once for up to ``timeout`` seconds (None: forever); run ready handlers."""
        ms = None if timeout is None else max(0, int(timeout * 1000 + 0.999))
        events = self.poller.poll(ms)
        for sock, _ in events:
            handler = self.handlers.get(sock)
            if handler is not None:
                handler()
        return bool(events)

    def wait(self, condition: Callable[[], bool], timeout: float | None,
             check: Callable[[], None] | None = None) -> bool:
        """Process events until ``condition()`` is true (True) or ``timeout`` passes (False).

        ``check`` runs every 0.2 s of waiting (e.g. to notice a dead server process).
        """
        if condition():
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        next_check = time.monotonic() + _CHECK_INTERVAL
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return condition()
            step = None if deadline is None else deadline - now
            if check is not None:
                step = min(step, _CHECK_INTERVAL) if step is not None else _CHECK_INTERVAL
            self.process(step)
            if condition():
                return True
            if check is not None and time.monotonic() >= next_check:
                check()
                next_check = time.monotonic() + _CHECK_INTERVAL
                if condition():
                    return True

    def idle(self) -> None:
        """Run housekeeping hooks (flushing released proxies, ...)."""
        for hook in list(self.idle_hooks):
            hook()
