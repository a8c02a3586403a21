"""Weighted remote reference counting for proxies.

The owner gives each proxy it sends a weight and keeps the total it handed
out.  A process merges the weights it receives for one remote object into a
single ``RemoteRef``; forwarding a proxy to a third process splits that weight,
so no message to the owner is needed.  When the last local proxy goes, its
weight is queued for release and sent back with the next message to the owner
(or when an idle loop flushes); the owner frees the object when its total is 0.
"""
from __future__ import annotations

import collections
import threading
import weakref

__all__ = ["WEIGHT", "RemoteRef", "acquire", "has_releases", "take_releases", "pending_addresses",
           "queue_release"]

WEIGHT = 1 << 24

_lock = threading.Lock()
_refs: weakref.WeakValueDictionary[tuple[str, int], RemoteRef] = weakref.WeakValueDictionary()
_pending: dict[str, collections.deque] = {}


class RemoteRef:
    """This process's share of one remote object: address, id and weight held."""

    __slots__ = ("address", "obj_id", "weight", "type_name", "server_key", "__weakref__")

    def __init__(self, address: str, obj_id: int, weight: int, type_name: str,
                 server_key: str | None):
        self.address = address
        self.obj_id = obj_id
        self.weight = weight
        self.type_name = type_name
        self.server_key = server_key

    def split(self) -> int:
        """Weight to give to a copy sent elsewhere; 0 means ask the owner for more first."""
        with _lock:
            if self.weight < 2:
                return 0
            give = self.weight // 2
            self.weight -= give
            return give

    def add(self, weight: int) -> None:
        """Add weight obtained from the owner."""
        with _lock:
            self.weight += weight

    def __del__(self) -> None:
        try:
            if self.weight > 0:
                queue_release(self.address, self.obj_id, self.weight)
        except Exception:  # interpreter shutdown
            pass


def queue_release(address: str, obj_id: int, weight: int) -> None:
    """Queue ``weight`` of object ``obj_id`` to be given back to its owner at ``address``."""
    queue = _pending.get(address)
    if queue is None:
        queue = _pending.setdefault(address, collections.deque())
    queue.append((obj_id, weight))


def acquire(address: str, obj_id: int, weight: int, type_name: str = "",
            server_key: str | None = None) -> RemoteRef:
    """The RemoteRef for (address, obj_id), with ``weight`` added to it."""
    key = (address, obj_id)
    with _lock:
        ref = _refs.get(key)
        if ref is None:
            ref = RemoteRef(address, obj_id, weight, type_name, server_key)
            _refs[key] = ref
        else:
            ref.weight += weight
        return ref


def has_releases(address: str) -> bool:
    """True if releases wait to be given back to the owner at ``address``."""
    return bool(_pending.get(address))


def take_releases(address: str) -> list[list[int]]:
    """Pop the (obj_id, weight) pairs waiting to be released at ``address``."""
    queue = _pending.get(address)
    out: dict[int, int] = {}
    while queue:
        try:
            obj_id, weight = queue.popleft()
        except IndexError:
            break
        out[obj_id] = out.get(obj_id, 0) + weight
    return [[k, v] for k, v in out.items()]


def pending_addresses() -> list[str]:
    """Addresses with releases waiting."""
    return [a for a, q in list(_pending.items()) if q]
