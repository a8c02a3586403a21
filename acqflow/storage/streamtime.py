"""A stored stream's time model: ``time(index)`` piecewise linear, one segment per clock.

A recording keeps its raw stamps (a chunk's time is its last sample's) and, in each
stream's manifest entry, the Recorder's ``time_model``: the live fit (``TimeModel.to_dict``)
and its ``history``, one row ``[since, index, time, rate, jitter]`` per refresh (``since``:
the first stamp's index of the fit the row belongs to; a new ``since`` is a clock step).
:func:`model_from_history` turns those rows into segments; :func:`fit_stamps` fits segments
offline from the chunk stamps when a recording has no history (older recordings, imports):
the online model finds the steps, then each segment gets one robust line over all its stamps.

Each segment: samples ``[start, stop)``, knots ``[[index, time], ...]`` (linear between
them, extrapolated at ``rate`` beyond), its ``rate`` and ``jitter``.  Times are on the
stream's own clock, as its stored stamps (``StreamData.to_recorder_clock`` converts).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from acqflow.dataflow.streams.timemodel import TimeModel

__all__ = ["StreamTimeModel", "fit_stamps", "model_from_history"]


class StreamTimeModel:
    """``time_of(index)`` and ``index_at(time)`` of a stored stream over its segments."""

    def __init__(self, segments: list[dict[str, Any]], nominal_rate: float, source: str):
        self.segments = [s for s in segments if s["stop"] > s["start"] and s["knots"]]
        self.nominal_rate = float(nominal_rate)
        self.source = source            # 'recorder' (the live fit's history) or 'fitted' (offline)
        self._starts = np.array([s["start"] for s in self.segments], dtype=np.int64)

    def __repr__(self) -> str:
        return (f"<StreamTimeModel {len(self.segments)} segment(s), rate {self.rate:.6f} Hz, "
                f"drift {self.drift_ppm:+.1f} ppm, jitter {self.jitter * 1e3:.3f} ms ({self.source})>")

    # -- summary ----------------------------------------------------------------
    @property
    def rate(self) -> float:
        """Fitted rate of the longest segment (the nominal one when there is none)."""
        seg = self._longest()
        return float(seg["rate"]) if seg else self.nominal_rate

    @property
    def drift_ppm(self) -> float:
        """How far :attr:`rate` is from the nominal rate, in ppm."""
        return (self.rate / self.nominal_rate - 1.0) * 1e6

    @property
    def jitter(self) -> float:
        """Stamp jitter (s, sd around the line) of the longest segment."""
        seg = self._longest()
        return float(seg["jitter"]) if seg else 0.0

    def _longest(self) -> dict | None:
        return max(self.segments, key=lambda s: s["stop"] - s["start"]) if self.segments else None

    def summary(self) -> dict[str, Any]:
        """Rate, drift_ppm, jitter, number of segments, source, and that as a ``line``
        (``acqflow rec info``'s 'clock:' line, with its newline and indent)."""
        n = len(self.segments)
        line = (f"\n    clock: fitted rate {self.rate:.6f} Hz, drift {self.drift_ppm:+.1f} ppm, "
                f"jitter {self.jitter * 1e3:.3f} ms" + (f", {n} segments (clock steps)" if n > 1 else "")
                + ("" if self.source == "recorder" else " (fitted from the stamps)"))
        return dict(rate=self.rate, drift_ppm=self.drift_ppm, jitter=self.jitter, segments=n,
                    source=self.source, line=line)

    def to_dict(self) -> dict[str, Any]:
        """Plain values: source, rate, drift_ppm, jitter and the segments."""
        return dict(source=self.source, nominal_rate=self.nominal_rate, rate=self.rate,
                    drift_ppm=self.drift_ppm, jitter=self.jitter, segments=self.segments)

    # -- mapping ------------------------------------------------------------------
    def _seg_of(self, index: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self._starts, index, "right") - 1, 0, len(self.segments) - 1)

    @staticmethod
    def _seg_time(seg: dict, idx: np.ndarray) -> np.ndarray:
        k = np.asarray(seg["knots"], dtype=np.float64)
        dt = 1.0 / float(seg["rate"])
        out = np.interp(idx, k[:, 0], k[:, 1])
        out = np.where(idx < k[0, 0], k[0, 1] - (k[0, 0] - idx) * dt, out)
        return np.where(idx > k[-1, 0], k[-1, 1] + (idx - k[-1, 0]) * dt, out)

    def time_of(self, index: Any) -> Any:
        """Time of sample ``index`` (an int or an array) on its segment's line."""
        if not self.segments:
            raise ValueError("the time model has no segments (the stream has no stamps)")
        idx = np.asarray(index, dtype=np.float64)
        flat = idx.reshape(-1)
        out = np.empty(flat.shape)
        which = self._seg_of(flat)
        for k in np.unique(which):
            sel = which == k
            out[sel] = self._seg_time(self.segments[k], flat[sel])
        return float(out[0]) if idx.ndim == 0 else out.reshape(idx.shape)

    def position(self, t: Any) -> Any:
        """Fractional index at time ``t`` (float or array): the first segment (in index
        order) whose span holds ``t``, else the nearest one, extrapolated."""
        if not self.segments:
            raise ValueError("the time model has no segments (the stream has no stamps)")
        ts = np.asarray(t, dtype=np.float64)
        flat = ts.reshape(-1)
        out = np.full(flat.shape, np.nan)
        best = np.full(flat.shape, np.inf)
        for seg in self.segments:
            ends = np.array([seg["start"], seg["stop"] - 1], dtype=np.float64)
            k = np.asarray(seg["knots"], dtype=np.float64)
            inner = k[(k[:, 0] > ends[0]) & (k[:, 0] < ends[1])]
            ki = np.concatenate(([ends[0]], inner[:, 0], [ends[1]]))
            kt = np.concatenate(([self._seg_time(seg, ends[:1])[0]], inner[:, 1],
                                 [self._seg_time(seg, ends[1:])[0]]))
            kt = np.maximum.accumulate(kt)                 # a line's time never goes back
            half = 0.5 / float(seg["rate"])
            dist = np.maximum(kt[0] - half - flat, flat - kt[-1] - half).clip(min=0)
            take = dist < best
            if take.any():
                dt = 1.0 / float(seg["rate"])
                x = flat[take]
                pos = np.interp(x, kt, ki)
                pos = np.where(x < kt[0], ki[0] - (kt[0] - x) / dt, pos)
                pos = np.where(x > kt[-1], ki[-1] + (x - kt[-1]) / dt, pos)
                out[take], best[take] = pos, dist[take]
        return float(out[0]) if ts.ndim == 0 else out.reshape(ts.shape)

    def index_at(self, t: Any) -> Any:
        """Index of the sample nearest time ``t`` (float or array)."""
        pos = self.position(t)
        if np.ndim(pos) == 0:
            return int(round(pos))
        return np.rint(pos).astype(np.int64)


def _monotone(knots: list[list[float]]) -> list[list[float]]:
    """Knots strictly increasing in index and time (a later fit that disagrees is dropped)."""
    out: list[list[float]] = []
    for i, t in sorted(knots):
        if not out or (i > out[-1][0] and t > out[-1][1]):
            out.append([int(i), float(t)])
    return out


def model_from_history(history: list, nominal_rate: float, first: int, stop: int,
                       chunk_start: Callable[[int], int] | None = None) -> StreamTimeModel:
    """Segments from the Recorder's history rows ``[since, index, time, rate, jitter]``;
    ``chunk_start(i)`` gives the first index of the stored chunk holding ``i`` (a segment
    starts with the chunk whose last sample began its fit)."""
    groups: dict[int, list] = {}
    for row in history if isinstance(history, list) else []:     # a damaged manifest: no rows
        try:
            since, i, t, rate, jit = (int(row[0]), int(row[1]), float(row[2]), float(row[3]),
                                      float(row[4]))
        except (TypeError, ValueError, IndexError, KeyError, OverflowError):
            continue
        if math.isfinite(t) and math.isfinite(rate) and rate > 0 and math.isfinite(jit) and \
                max(abs(since), abs(i)) < 1 << 62:
            groups.setdefault(since, []).append((i, t, rate, jit))
    sinces = sorted(groups)
    segments = []
    for n, since in enumerate(sinces):
        start = first if n == 0 else (chunk_start(since) if chunk_start else since)
        end = stop if n + 1 == len(sinces) else (chunk_start(sinces[n + 1]) if chunk_start
                                                 else sinces[n + 1])
        rows = groups[since]
        segments.append(dict(start=int(start), stop=int(end), rate=rows[-1][2], jitter=rows[-1][3],
                             knots=_monotone([[i, t] for i, t, _, _ in rows])))
    return StreamTimeModel(segments, nominal_rate, "recorder")


def fit_stamps(starts: np.ndarray, stops: np.ndarray, times: np.ndarray,
               nominal_rate: float) -> StreamTimeModel:
    """Segments fitted offline to chunk stamps (chunk ``k`` holds ``[starts[k], stops[k])``,
    its last sample taken at ``times[k]``): the online model finds the clock steps, then one
    robust line per segment over all its stamps."""
    last = np.asarray(stops, dtype=np.int64) - 1
    times = np.asarray(times, dtype=np.float64)
    if not len(last):
        return StreamTimeModel([], nominal_rate, "fitted")
    online = TimeModel(nominal_rate)
    online.add(last, times)
    bounds = sorted(set(online.starts)) or [int(last[0])]
    cuts = np.searchsorted(last, bounds, "left")
    cuts[0] = 0
    segments = []
    for n, k0 in enumerate(cuts):
        k1 = cuts[n + 1] if n + 1 < len(cuts) else len(last)
        if k1 <= k0:
            continue
        line = TimeModel(nominal_rate, window=math.inf, step=math.inf, max_points=int(k1 - k0) + 8)
        line.add(last[k0:k1], times[k0:k1])
        line.refit()
        if not line.ready:
            continue
        s, e = int(starts[k0]), int(stops[k1 - 1])
        segments.append(dict(start=s, stop=e, rate=line.rate, jitter=line.jitter,
                             knots=_monotone([[s, line.time_of(s)], [e - 1, line.time_of(e - 1)]])))
    for a, b in zip(segments, segments[1:]):
        a["stop"] = b["start"]
    return StreamTimeModel(segments, nominal_rate, "fitted")
