"""One live-update (WebSocket) client of the web monitor: its own sending task and a
bounded queue, so a client that reads slowly or never loses updates (counted) and
is then disconnected, without ever delaying the others."""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

__all__ = ["Subscriber"]

log = logging.getLogger(__name__)


class Subscriber:
    """Sends what :meth:`offer` gives to ``ws``, newest first kept: at most ``queue``
    updates wait (older ones are dropped and counted); ``max_lag`` drops in a row, or
    more than ``max_buffer`` bytes unsent in ``transport``, disconnect the client."""

    def __init__(self, ws: Any, transport: Any, queue: int = 2, max_lag: int = 10,
                 max_buffer: int = 8 << 20):
        self.ws, self.transport = ws, transport
        self.wanted: set[str] = set()
        self.dropped = 0              # updates never sent to this client
        self.lag = 0                  # updates dropped since the last one sent
        self.gone: str | None = None  # why it stopped receiving
        self.cut = False              # disconnected for reading too slowly
        self._max_lag, self._max_buffer = max_lag, max_buffer
        self._pending: deque[str] = deque(maxlen=queue)
        self._ready = asyncio.Event()
        self._task = asyncio.ensure_future(self._send())

    def offer(self, text: str) -> bool:
        """Queue ``text`` (never waits); False when the client is gone or now cut off."""
        if self.gone is not None:
            return False
        if len(self._pending) == self._pending.maxlen:
            self.dropped += 1
            self.lag += 1
        self._pending.append(text)
        self._ready.set()
        unsent = self.transport.get_write_buffer_size() if self.transport is not None else 0
        if self.lag >= self._max_lag:
            self.disconnect(f"it read none of the last {self.lag} updates")
        elif unsent > self._max_buffer:
            self.disconnect(f"{unsent} bytes waited to be sent to it")
        return self.gone is None

    async def _send(self) -> None:
        try:
            while True:
                await self._ready.wait()
                self._ready.clear()
                while self._pending:
                    await self.ws.send_str(self._pending.popleft())
                    self.lag = 0
        except Exception as exc:        # noqa: BLE001 - a closing or reset connection: stop sending
            self.gone = self.gone or f"sending failed: {type(exc).__name__}: {exc}"

    def disconnect(self, reason: str) -> None:
        """Cut the client off now, unsent updates discarded (its handler then ends)."""
        self.cut = True
        if self.gone is None:
            self.gone = reason
            log.info("web monitor: disconnected a slow live-update client: %s", reason)
        self.close()
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        """Stop sending (the connection itself is left to its handler)."""
        self._task.cancel()
