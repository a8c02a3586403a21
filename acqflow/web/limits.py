"""The web monitor's own accept loop: a cap on open connections, idle ones closed
first, the rest refused with a quick 503, and descriptor exhaustion logged once a
minute instead of a traceback per accept (docs/monitor.md, "Limits").

asyncio's own accept loop logs a traceback for every failed ``accept()`` and, on
Python 3.11, schedules one retry per backlog slot; this one pauses accepting for a
moment, closes idle connections to free descriptors and says so in one line.
"""
from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
import time
from dataclasses import dataclass
from typing import Any, Callable

from ..dataflow import paramcheck as check

__all__ = ["Limits", "ConnectionGuard", "EveryMinute", "OneLineEveryMinute", "http_logger",
           "default_max_connections", "RESOURCE_ERRNOS"]

log = logging.getLogger(__name__)

#: accept() errors that mean "out of descriptors or memory": wait, free some, retry
RESOURCE_ERRNOS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
ACCEPT_BATCH = 64          # accepts per wake-up, so a flood cannot starve the loop
RETRY_DELAY = 0.5          # s without accepting after an exhaustion
MAX_REFUSING = 64          # refusals waiting for their request's end; more are just closed
REFUSAL_LINGER = 1.0       # s a refused connection may take to send its request


def default_max_connections() -> int:
    """A quarter of the process's soft descriptor limit, between 16 and 256: the web
    monitor alone can never exhaust the manager's descriptors."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return 256
    return max(16, min(256, soft // 4))


@dataclass
class Limits:
    """How much the web monitor lets its clients hold (docs/monitor.md, "Limits")."""

    max_connections: int = 0        # open HTTP/WebSocket connections (0: default_max_connections())
    max_websockets: int = 0         # live-update clients (0: a quarter of max_connections)
    idle_timeout: float = 30.0      # s a connection may stay open without a request in progress
    evict_after: float = 0.5        # s idle before a connection may be closed to make room
    ws_queue: int = 2               # updates waiting per WebSocket client (older ones dropped)
    ws_max_lag: int = 10            # updates dropped in a row before a slow client is disconnected
    ws_max_buffer: int = 8 << 20    # bytes unsent to one client before it is disconnected
    ws_send_buffer: int = 256 << 10  # kernel send buffer of a WebSocket (SO_SNDBUF; 0: the system's)

    def __post_init__(self) -> None:
        if self.max_connections <= 0:
            self.max_connections = default_max_connections()
        if self.max_websockets <= 0:
            self.max_websockets = max(1, self.max_connections // 4)
        if self.max_websockets >= self.max_connections:
            check.must_be("max_websockets", f"below max_connections ({self.max_connections}): plain "
                          f"requests need room too", self.max_websockets)
        check.non_negative_number("ws_send_buffer", self.ws_send_buffer)
        for name in ("idle_timeout", "ws_queue", "ws_max_lag", "ws_max_buffer"):
            check.positive_number(name, getattr(self, name), inf_ok=True)


class EveryMinute:
    """Logs a warning at most once per ``period`` s per key, with how many were held back."""

    def __init__(self, logger: logging.Logger = log, period: float = 60.0):
        self.logger, self.period = logger, period
        self._last: dict[Any, float] = {}
        self._held: dict[Any, int] = {}

    def due(self, key: Any) -> str | None:
        """None if ``key`` was said less than ``period`` s ago (counted), else the suffix to say."""
        now = time.monotonic()
        if now - self._last.get(key, -self.period) < self.period:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        held = self._held.pop(key, 0)
        self._last[key] = now
        return (f" ({held} more since the last message)" if held else "") + "; said at most once a minute"

    def __call__(self, key: str, message: str) -> bool:
        """Log ``message`` unless ``key`` was logged less than ``period`` s ago; True if logged."""
        suffix = self.due(key)
        if suffix is not None:
            self.logger.warning("%s%s", message, suffix)
        return suffix is not None


class OneLineEveryMinute(logging.Filter):
    """For aiohttp's server logger: each kind of message (a malformed request, a failed
    handler) once a minute, as one line naming the exception instead of a traceback."""

    def __init__(self, period: float = 60.0):
        super().__init__()
        self._gate = EveryMinute(period=period)

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        suffix = self._gate.due((record.msg, type(exc)))
        if suffix is None:
            return False
        text = record.getMessage()
        if exc is not None:
            said = " ".join(ln.strip() for ln in str(exc).splitlines() if ln.strip())
            text += f": {type(exc).__name__}: {said[:200]}"
        record.msg, record.args, record.exc_info, record.exc_text = f"web monitor: {text}{suffix}", (), None, None
        return True


def http_logger() -> logging.Logger:
    """The logger the web monitor's HTTP layer reports through (see :class:`OneLineEveryMinute`)."""
    logger = logging.getLogger(__name__).getChild("http")
    if not any(isinstance(f, OneLineEveryMinute) for f in logger.filters):
        logger.addFilter(OneLineEveryMinute())
    return logger


def _response(status: str, message: str) -> bytes:
    body = ('{"error": "%s"}' % message).encode()
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Retry-After: 1\r\nConnection: close\r\n\r\n").encode() + body


BUSY = _response("503 Service Unavailable", "the web monitor has too many connections; retry shortly")


class _Refusal(asyncio.Protocol):
    """Answers 503 at once and closes when the request's head was read (or after a
    moment), so the client reads the answer rather than a reset."""

    def __init__(self, done: Callable[[], None]):
        self._done, self._tail, self._seen = done, b"", 0

    def connection_made(self, transport: Any) -> None:
        self._transport = transport
        transport.write(BUSY)
        self._timer = asyncio.get_running_loop().call_later(REFUSAL_LINGER, transport.close)

    def data_received(self, data: bytes) -> None:
        self._tail, self._seen = (self._tail + data)[-4:], self._seen + len(data)
        if b"\r\n\r\n" in self._tail or self._seen > 16384:
            self._transport.close()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._timer.cancel()
        self._done()


class _Conn:
    """One accepted connection: requests in progress, and since when it has had none."""
    __slots__ = ("idle_since", "busy", "connected")

    def __init__(self, now: float):
        self.idle_since, self.busy, self.connected = now, 0, False


class ConnectionGuard:
    """Accepts on ``sock`` for ``factory`` (aiohttp's request-handler factory) within
    ``limits``: at the cap, the longest-idle connection is closed to make room, or
    the newcomer gets a 503 when every connection is busy."""

    def __init__(self, sock: socket.socket, factory: Callable[[], Any], limits: Limits):
        self._sock, self._factory, self.limits = sock, factory, limits
        self._loop = asyncio.get_running_loop()
        self._conns: dict[Any, _Conn] = {}
        self._refusing = 0
        self._paused = False
        self._say = EveryMinute()
        self.counts = {"accepted": 0, "refused": 0, "evicted": 0, "idle_closed": 0, "exhausted": 0}
        self._loop.set_exception_handler(self._loop_error)
        sock.setblocking(False)
        self._loop.add_reader(sock.fileno(), self._accept)
        self._sweeper = self._loop.call_later(1.0, self._sweep)

    def close(self) -> None:
        """Stop accepting (open connections are aiohttp's to close)."""
        self._sweeper.cancel()
        if not self._paused:
            self._loop.remove_reader(self._sock.fileno())
        self._paused = True

    # -- bookkeeping -----------------------------------------------------------
    def open_connections(self) -> int:
        """Connections being accepted or open (closed ones pruned)."""
        for proto in [p for p, c in self._conns.items() if c.connected and p.transport is None]:
            del self._conns[proto]
        return len(self._conns)

    def busy(self, proto: Any, delta: int) -> None:
        """A request on ``proto`` started (+1) or ended (-1); WebSockets stay busy."""
        conn = self._conns.get(proto)
        if conn is not None:
            conn.busy += delta
            conn.idle_since = time.monotonic()

    def _idle(self, older_than: float) -> list[Any]:
        """Idle connections, longest idle first, idle for at least ``older_than`` s."""
        now = time.monotonic()
        idle = [(c.idle_since, id(p), p) for p, c in self._conns.items()
                if c.connected and not c.busy and p.transport is not None and now - c.idle_since >= older_than]
        return [p for *_, p in sorted(idle)]

    def _sweep(self) -> None:
        for proto in self._idle(self.limits.idle_timeout):
            self.counts["idle_closed"] += 1
            proto.force_close()
        self.open_connections()
        self._sweeper = self._loop.call_later(1.0, self._sweep)

    # -- accepting -------------------------------------------------------------
    def _accept(self) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _addr = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                self._exhausted(exc)
                return
            conn.setblocking(False)
            self._admit(conn)

    def _admit(self, conn: socket.socket) -> None:
        if self.open_connections() >= self.limits.max_connections:
            idle = self._idle(self.limits.evict_after)
            if not idle:
                self._refuse(conn)
                return
            self.counts["evicted"] += 1
            idle[0].force_close()
            self._conns.pop(idle[0], None)
        proto = self._factory()
        self._conns[proto] = entry = _Conn(time.monotonic())
        self.counts["accepted"] += 1

        def connected(task: asyncio.Future) -> None:
            if task.cancelled() or task.exception() is not None:
                self._conns.pop(proto, None)
            else:
                entry.connected = True
        self._loop.create_task(self._loop.connect_accepted_socket(lambda: proto, conn)) \
            .add_done_callback(connected)

    def _refuse(self, conn: socket.socket) -> None:
        self.counts["refused"] += 1
        if self._refusing >= MAX_REFUSING:
            conn.close()
            return
        self._refusing += 1

        def done() -> None:
            self._refusing -= 1
        def failed(task: asyncio.Future) -> None:      # reset before it was answered: nothing to say
            if task.cancelled() or task.exception() is not None:
                done()
        self._loop.create_task(self._loop.connect_accepted_socket(lambda: _Refusal(done), conn)) \
            .add_done_callback(failed)

    def _exhausted(self, exc: OSError) -> None:
        """accept() failed: pause, close idle connections if out of resources, retry."""
        self._loop.remove_reader(self._sock.fileno())
        self._paused = True
        if exc.errno in RESOURCE_ERRNOS:
            self.counts["exhausted"] += 1
            idle = self._idle(0.0)
            for proto in idle:
                proto.force_close()
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            self._say("exhausted", f"web monitor: cannot accept connections: {exc.strerror} "
                                   f"(descriptor limit {soft}, {self.open_connections()} web connections "
                                   f"open; closed {len(idle)} idle ones, retrying every {RETRY_DELAY} s)")
        else:
            self._say(f"accept-{exc.errno}", f"web monitor: accept() failed: {exc.strerror or exc}")
        self._loop.call_later(RETRY_DELAY, self._resume)

    def _resume(self) -> None:
        if self._paused and not self._sweeper.cancelled():
            self._paused = False
            self._loop.add_reader(self._sock.fileno(), self._accept)

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Out-of-resource errors anywhere in the server's loop: one line a minute."""
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in RESOURCE_ERRNOS:
            self._say(f"loop-{exc.errno}", f"web monitor: {context.get('message', 'error')}: {exc.strerror}")
            return
        loop.default_exception_handler(context)
