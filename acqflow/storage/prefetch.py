"""``Recording.prefetch(t0, t1)``: download the block ranges covering a time interval
into the local cache, with a progress bar, so later reads there are cache hits."""
from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from .backends import Backend
from .errors import StorageError
from .progress import progress_bar
from .streamdata import StreamData

Range = tuple[str, int, int]    # (file, offset, length): the unit remote reads fetch and cache

__all__ = ["Prefetch", "prefetch"]


@dataclass
class Prefetch:
    """What a prefetch did: ranges found already cached vs downloaded, and bytes.

    Also a context manager (``with rec.prefetch(t0, t1): ...``): the download is
    done when the ``with`` body starts; the block reads the interval from cache.
    """
    ranges: int = 0
    cached: int = 0
    fetched: int = 0
    bytes: int = 0
    fetched_bytes: int = 0
    streams: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __enter__(self) -> "Prefetch":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def prefetch(backend: Backend, url: str, streams: Iterable[StreamData],
             ranges_of: Callable[[StreamData, int, int], Iterable[Range]],
             t0: float | None = None, t1: float | None = None, progress: bool | None = None,
             workers: int = 4) -> Prefetch:
    """Download the stored ranges (``ranges_of(stream, start, stop)``) of ``streams`` with
    samples in ``[t0, t1)`` (None: from the start / to the end) into ``backend``'s cache;
    what ``Recording.prefetch`` runs.

    Local recordings need no prefetch (returns an empty result).  A remote
    recording opened with the cache disabled raises StorageError.
    """
    result = Prefetch()
    if not backend.whole_ranges:
        return result
    cache = getattr(backend, "cache", None)
    if cache is None:
        raise StorageError(f"{url}: prefetch needs a local cache, and this recording "
                           "was opened without one (cache=False or a cache size of -1)")
    todo: list[Range] = []
    seen: set[Range] = set()
    for s in streams:
        if not len(s):
            continue
        tr = s.time_range
        assert tr is not None            # (not empty)
        i0, i1 = s.time_to_indexes(tr[0] if t0 is None else t0,
                                   np.inf if t1 is None else t1)
        result.streams[s.name] = (i0, i1)
        if i1 <= i0:
            continue
        for rng in ranges_of(s, i0, i1):
            if rng not in seen:
                seen.add(rng)
                todo.append(rng)
    result.ranges = len(todo)
    result.bytes = sum(r[2] for r in todo)
    missing = [r for r in todo if not backend.is_cached(*r)]
    result.cached = len(todo) - len(missing)
    if result.bytes > cache.max_bytes:
        warnings.warn(f"prefetch of {result.bytes} bytes exceeds the cache cap "
                      f"({cache.max_bytes} bytes): its first ranges will be evicted",
                      stacklevel=3)
    bar = progress_bar(sum(r[2] for r in missing), f"prefetch {url}", "B", progress)
    try:
        def fetch(r: Range) -> int:
            backend.read(*r, immutable=True)
            return r[2]
        with ThreadPoolExecutor(max(1, workers)) as pool:
            for n in pool.map(fetch, missing):
                bar.update(n)
                result.fetched += 1
                result.fetched_bytes += n
    finally:
        bar.close()
    return result
