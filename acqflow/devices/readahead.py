"""Read-ahead: a thread that runs an iterator (reads and decodes stored chunks) into a
bounded queue, so the thread that takes them (the Player's sender) never waits on a decoder.
Reads that can run apart (frames coded each on its own) run on a few threads, kept in order."""
from __future__ import annotations

import collections
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
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


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _done(read) -> Future:
    future: Future = Future()
    future.set_result(read())
    return future


class ReadAhead(StoppableThread):
    """Takes the items of ``items`` ahead, up to ``depth`` items and ``max_bytes`` bytes
    (always at least one); :meth:`get` hands them over in order, then None at the end.
    An item that is a tuple ending with a callable gets that callable's result in its
    place, run on up to ``workers`` threads (cv2's decoders release the GIL).  An
    exception raised by the iterator or a read is raised again by :meth:`get`, in the taker."""

    def __init__(self, items: Iterator[Any], name: str, depth: int = 16, max_bytes: int = 64 << 20,
                 workers: int | None = None):
        super().__init__(name)
        self.items, self.depth, self.max_bytes = items, max(1, int(depth)), int(max_bytes)
        self.workers = _default_workers() if workers is None else max(1, int(workers))
        self._queue: collections.deque = collections.deque()
        self._bytes = 0
        self._done = False              # the end (or an error) is queued
        self._cv = threading.Condition()

    def loop(self) -> None:
        end: tuple = ("end", None)
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix=self.name) if self.workers > 1 else None
        inflight: collections.deque = collections.deque()    # (item, Future or None), in order
        try:
            for item in self.items:
                read = item[-1] if isinstance(item, tuple) and callable(item[-1]) else None
                future = None if read is None else (pool.submit(read) if pool else _done(read))
                inflight.append((item, future))
                while inflight and (len(inflight) > self.workers or inflight[0][1] is None
                                    or inflight[0][1].done()):
                    if not self._put_ready(*inflight.popleft()):
                        return
            while inflight:
                if not self._put_ready(*inflight.popleft()):
                    return
        except BaseException as exc:      # raised again in the taker's thread by get()
            end = ("error", exc)
        finally:
            if pool is not None:
                for _, future in inflight:
                    if future is not None:
                        future.cancel()
                pool.shutdown(wait=False)
        self._put(end, 0, wait=False)

    def _put_ready(self, item: Any, future: Future | None) -> bool:
        if future is not None:
            item = item[:-1] + (future.result(),)
        return self._put(("item", item), _nbytes(item))

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
