"""The server's table of clients (to tell them when it closes), kept bounded.

A ROUTER socket is not told when a peer goes away, so the table forgets a client
when it says goodbye (``RPCClient.close()`` sends ``bye``), when it has been idle
for ``idle_s`` seconds, and, oldest first, beyond ``max_clients`` entries.  A
forgotten client is only not told of the server's close; its next request
enters it again.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator

__all__ = ["ClientTable"]


class ClientTable:
    """identity -> serializer name, least recently seen first, bounded in size and age."""

    def __init__(self, max_clients: int = 1024, idle_s: float = 600.0):
        self.max_clients = max_clients
        self.idle_s = idle_s
        self._table: OrderedDict[bytes, list] = OrderedDict()
        self._next_prune = 0.0

    def touch(self, ident: bytes, ser_name: bytes) -> None:
        """Note a request from ``ident`` (and forget idle clients, once a second at most)."""
        table = self._table
        entry = table.get(ident)
        now = time.monotonic()
        if now >= self._next_prune:
            self.prune(now)
        if entry is None:
            table[ident] = [ser_name, now]
            if len(table) > self.max_clients:
                table.popitem(last=False)
        else:
            entry[0], entry[1] = ser_name, now
            table.move_to_end(ident)

    def touch_known(self, ident: bytes, ser_name: bytes) -> bool:
        """``touch`` a client already in the table (True); False, touching nothing, for
        one that is not."""
        if ident not in self._table:
            return False
        self.touch(ident, ser_name)
        return True

    def forget(self, ident: bytes) -> None:
        """``ident`` said goodbye."""
        self._table.pop(ident, None)

    def prune(self, now: float | None = None) -> None:
        """Forget clients idle longer than ``idle_s`` (cheap: looks at the oldest only)."""
        table = self._table
        if now is None:
            now = time.monotonic()
        self._next_prune = now + 1.0
        limit = now - self.idle_s
        while table:
            ident, entry = next(iter(table.items()))
            if entry[1] >= limit:
                return
            del table[ident]

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """(identity, serializer name) of every remembered client."""
        return ((ident, entry[0]) for ident, entry in list(self._table.items()))

    def __len__(self) -> int:
        return len(self._table)
