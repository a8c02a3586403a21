"""The stored result of a sync-line alignment, as readers use it (:mod:`.align` computes it).

A stream's manifest entry ``alignment`` holds ``pieces``, ``[start, stop, a, b]`` per run
between clock steps: sample ``i`` of a run is at ``a + b * i`` on the common clock.
Kept apart from :mod:`.align` so that :mod:`.timebase`, :mod:`.merge`, the exports and
``StoredStream`` read it without importing the computation (which uses :mod:`.timebase`).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import StorageError
from .streamdata import StreamData

__all__ = ["alignment_of", "common_times", "common_index", "model_times", "piece_times"]


def piece_times(pieces: list[list[float]], index: np.ndarray) -> np.ndarray:
    """Times of fractional sample indexes on a piecewise-linear fit (the first and last
    pieces extend beyond the stream)."""
    p = np.asarray(pieces, float).reshape(-1, 4)
    idx = np.asarray(index, float)
    k = np.clip(np.searchsorted(p[:, 0], idx, "right") - 1, 0, len(p) - 1)
    return p[k, 2] + p[k, 3] * idx


def alignment_of(stream: StreamData) -> dict[str, Any] | None:
    """The stream's stored alignment (``a``, ``b``, ``reference``, ...), None without one."""
    al = stream.entry.get("alignment")
    if not isinstance(al, dict):
        return None
    a, b = al.get("a"), al.get("b")
    if not (isinstance(a, (int, float)) and math.isfinite(a) and isinstance(b, (int, float))
            and math.isfinite(b) and b > 0):
        return None
    pieces = al.get("pieces")
    if pieces is not None and not (isinstance(pieces, list) and pieces and all(
            isinstance(p, list) and len(p) == 4 and all(isinstance(v, (int, float))
                                                        and math.isfinite(v) for v in p)
            and p[3] > 0 for p in pieces)):
        return None
    return al


def common_times(stream: StreamData, start: int | None = None, stop: int | None = None
                 ) -> np.ndarray:
    """Common-clock time of every index in ``[start, stop)`` (gaps included: the fit
    covers them); StorageError when the stream has no alignment."""
    al = alignment_of(stream)
    if al is None:
        raise StorageError(f"stream {stream.name!r} is not aligned to a common clock "
                           "(acqflow rec align REC --line STREAM:CHANNEL ...)")
    start, stop = stream.bounds(start, stop)
    return model_times(al, np.arange(start, stop, dtype=np.float64))


def model_times(al: dict[str, Any], index: np.ndarray) -> np.ndarray:
    """Common-clock times of ``index`` under alignment ``al`` (its pieces, else ``a``, ``b``)."""
    pieces = al.get("pieces") or [[0, 0, al["a"], al["b"]]]
    return piece_times(pieces, index)


def common_index(stream: StreamData, t: float) -> int:
    """First index whose common-clock time is >= ``t``, within ``[first_index, stop_index]``."""
    al = alignment_of(stream)
    if al is None:
        return stream.index_at(t)
    p = np.asarray(al.get("pieces") or [[0, 0, al["a"], al["b"]]], float).reshape(-1, 4)
    for k in range(len(p)):     # the first piece whose span reaches t
        a, b = p[k, 2], p[k, 3]
        slack = 4 * math.ulp(abs(t)) / b + 1e-9       # float64 of a Unix time: ~0.2 us
        i = math.ceil((t - a) / b - slack)
        if k == len(p) - 1 or i < p[k + 1, 0]:
            return min(max(i, int(p[k, 0]) if k else stream.first_index), stream.stop_index)
    return stream.stop_index
