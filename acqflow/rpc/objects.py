"""A server's table of the objects it holds for remote proxies, with their weights.

Each object published for a proxy gets an id (the proxy's ``obj_id``) and a weight
(see refs.py): every proxy sent out carries part of it, and proxies give theirs back
(``release``) when they go; the object is forgotten when none is left.  The same
object published twice keeps its id.
"""
from __future__ import annotations

import itertools
import threading
from typing import Any

from . import refs

__all__ = ["ObjectTable"]


class ObjectTable:
    """obj_id -> [object, outstanding weight], and id(object) -> obj_id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()       # proxies may be published from other threads
        self.entries: dict[int, list] = {}  # read without the lock: one dict.get is atomic
        self._ids: dict[int, int] = {}
        self._next_id = itertools.count(1)

    def add(self, obj: Any) -> int:
        """The id of ``obj``, published for one more proxy (one more ``refs.WEIGHT``)."""
        with self._lock:
            obj_id = self._ids.get(id(obj))
            if obj_id is None:
                obj_id = next(self._next_id)
                self.entries[obj_id] = [obj, 0]
                self._ids[id(obj)] = obj_id
            self.entries[obj_id][1] += refs.WEIGHT
        return obj_id

    def entry(self, obj_id: Any) -> list | None:
        """``[object, weight]`` of ``obj_id`` (untrusted: any value), None if there is none."""
        return self.entries.get(obj_id) if type(obj_id) is int else None

    def get(self, obj_id: Any, address: str) -> Any:
        """The object ``obj_id``; LookupError naming it (and the server at ``address``)
        if there is none."""
        entry = self.entry(obj_id)
        if entry is None:
            raise LookupError(f"object #{obj_id} does not exist on {address} "
                              "(it was released, or the server restarted)")
        return entry[0]

    def incref(self, obj_id: Any, address: str) -> int:
        """Add one ``refs.WEIGHT`` to ``obj_id`` (a proxy ran out of weight to give away)."""
        with self._lock:
            entry = self.entry(obj_id)
            if entry is None:
                raise LookupError(f"object #{obj_id} does not exist on {address}")
            entry[1] += refs.WEIGHT
        return refs.WEIGHT

    def release(self, items: Any) -> None:
        """Take back the weights of ``[[obj_id, weight], ...]`` (untrusted: malformed items
        and unknown ids are skipped); objects left with none are forgotten."""
        if not isinstance(items, list):
            return
        with self._lock:
            for item in items:
                if not (isinstance(item, (list, tuple)) and len(item) == 2):
                    continue
                obj_id, weight = item
                entry = self.entry(obj_id)
                if entry is None or type(weight) is not int:
                    continue
                entry[1] -= weight
                if entry[1] <= 0:
                    del self.entries[obj_id]
                    self._ids.pop(id(entry[0]), None)

    def clear(self) -> None:
        """Forget every object (the server closed)."""
        with self._lock:
            self.entries.clear()
            self._ids.clear()

    def __len__(self) -> int:
        return len(self.entries)
