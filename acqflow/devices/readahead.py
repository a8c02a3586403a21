"""Read-ahead: a thread that runs an iterator (reads and decodes stored chunks) into a
bounded queue, so the thread that takes them (the Player's sender) never waits on a decoder."""
from __future__ import annotations

import collections
import threading
from typing import Any, Iterator

import numpy as np

from ..dataflow.threadpoll import StoppableThread

__all__ = ["ReadAhead", "STOPPED"]

STOPPED = object()
"""What :meth:`ReadAhead.get` returns once the read-ahead was stopped."""


def _nbytes(item: Any) -> int:
    """Bytes an item holds: its arrays' (a tuple's members looked at)."""
    parts = item if isinstance(item, tuple) else (item,)
    return sum(p.nbytes for p in parts if isinstance(p, np.ndarray))


class ReadAhead(StoppableThread):
    """Takes the items of ``items`` ahead, up to ``depth`` items and ``max_bytes`` bytes
    (always at least one); :meth:`get` hands them over in order, then None at the end.
    An exception raised by the iterator is raised again by :meth:`get`, in the taker."""

    def __init__(self, items: Iterator[Any], name: str, depth: int = 16, max_bytes: int = 64 << 20):
        super().__init__(name)
        self.items, self.depth, self.max_bytes = items, max(1, int(depth)), int(max_bytes)
        self._queue: collections.deque = collections.deque()
        self._bytes = 0
        self._done = False              # the end (or an error) is queued
        self._cv = threading.Condition()

    def loop(self) -> None:
        end: tuple = ("end", None)
        try:
            for item in self.items:
                if not self._put(("item", item), _nbytes(item)):
                    return
        except BaseException as exc:      # raised again in the taker's thread by get()
            end = ("error", exc)
        self._put(end, 0, wait=False)

    def _put(self, entry: tuple, nbytes: int, wait: bool = True) -> bool:
        with self._cv:
            while wait and self._queue and not self.stopping.is_set() and \
                    (len(self._queue) >= self.depth or self._bytes + nbytes > self.max_bytes):
                self._cv.wait()
            if self.stopping.is_set():
                return False
            self._queue.append((entry, nbytes))
            self._bytes += nbytes
            self._done = entry[0] != "item"
            self._cv.notify_all()
            return True

    def get(self) -> Any:
        """The next item, None after the last, :data:`STOPPED` once stopped; raises what
        the iterator raised."""
        with self._cv:
            while not self._queue and not self.stopping.is_set() and not self._done:
                self._cv.wait()
            if not self._queue:
                return STOPPED if self.stopping.is_set() else None
            (kind, value), nbytes = self._queue.popleft()
            self._bytes -= nbytes
            self._cv.notify_all()
        if kind == "error":
            raise value
        return value if kind == "item" else None

    @property
    def queued(self) -> int:
        """Items read ahead and not yet taken."""
        return len(self._queue)

    def stop(self) -> None:
        """End the read-ahead (what is queued is dropped; a read in progress finishes)."""
        with self._cv:
            self.stopping.set()
            self._queue.clear()
            self._bytes = 0
            self._cv.notify_all()
