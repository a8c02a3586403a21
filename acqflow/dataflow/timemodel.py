"""TimeModel: a stream's clock, ``time(index) = offset + index / rate``, fitted online to its stamps.

Each stamp pairs a sample index with the time that sample was taken (a chunk's stamp is the
time of its last sample).  Stamps jitter (drivers stamp at arrival) and a device's crystal
drifts from its nominal rate; a linear fit over a sliding window of stamps, with outliers
rejected, estimates both, as LSL's dejitter does offline.  A gap in the indexes or a clock
step (a stamp far off the fitted line, several times in a row) restarts the fit.
"""
from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

__all__ = ["TimeModel"]


class TimeModel:
    """Online estimate of ``time(index)`` and its inverse for one stream.

    ``nominal_rate``: the stream's declared sample rate (Hz), used until two stamps are
    known.  ``window``: seconds of stamps the fit looks at.  ``step``: a stamp further than
    this many seconds (and 10 jitters) off the line, ``step_count`` times in a row, is a
    clock step and restarts the fit.
    """

    def __init__(self, nominal_rate: float, window: float = 30.0, step: float = 0.05,
                 step_count: int = 3, max_points: int = 4096):
        if not (math.isfinite(float(nominal_rate)) and float(nominal_rate) > 0):
            raise ValueError(f"nominal_rate must be a positive number of Hz, not {nominal_rate!r}")
        self.nominal_rate = float(nominal_rate)
        self.window = float(window)
        self.step = float(step)
        self.step_count = int(step_count)
        self._points: deque[tuple[int, float]] = deque(maxlen=int(max_points))
        self._off_line = 0
        self.resets = 0
        self._fit: tuple[int, float, float] | None = None     # (i_ref, t_ref, seconds per sample)
        self.jitter = 0.0
        self._last_index: int | None = None

    # -- feeding ---------------------------------------------------------------------------
    def update(self, index_stop: int, t: float) -> None:
        """A chunk ending before ``index_stop`` whose last sample was taken at ``t``."""
        self.add(np.array([int(index_stop) - 1]), np.array([float(t)]))

    def add(self, indexes: Any, times: Any) -> None:
        """Per-sample stamps: ``times[k]`` is when sample ``indexes[k]`` was taken."""
        idx = np.asarray(indexes, dtype=np.int64).reshape(-1)
        ts = np.asarray(times, dtype=np.float64).reshape(-1)
        keep = np.isfinite(ts)
        for i, t in zip(idx[keep].tolist(), ts[keep].tolist()):
            self._add_one(i, t)
        self._refit()

    def reset(self) -> None:
        """Forget every stamp (a gap, a new clock): the next stamps start a new fit."""
        self._points.clear()
        self._fit = None
        self._off_line = 0
        self.jitter = 0.0
        self._last_index = None
        self.resets += 1

    def _add_one(self, i: int, t: float) -> None:
        if self._last_index is not None and i <= self._last_index:
            return                                   # out of order or repeated: ignored
        if self._fit is not None and len(self._points) >= 8:
            miss = abs(t - self._time_one(i))
            if miss > max(self.step, 10 * self.jitter):
                self._off_line += 1
                if self._off_line < self.step_count:
                    return
                self.reset()                         # a clock step: start again from here
        self._off_line = 0
        self._points.append((i, t))
        self._last_index = i
        while len(self._points) > 2 and t - self._points[0][1] > self.window:
            self._points.popleft()

    def _refit(self) -> None:
        n = len(self._points)
        if n == 0:
            return
        pts = np.array(self._points, dtype=np.float64)
        i_ref, t_ref = int(self._points[-1][0]), float(self._points[-1][1])
        x = pts[:, 0] - i_ref
        y = pts[:, 1] - t_ref
        if n < 2 or np.ptp(x) == 0:
            self._fit = (i_ref, t_ref, 1.0 / self.nominal_rate)
            return
        keep = np.ones(n, dtype=bool)
        for _ in range(3):                           # least squares, outliers (> 3 MADs) out
            slope, icpt = np.polyfit(x[keep], y[keep], 1)
            res = y - (slope * x + icpt)
            mad = float(np.median(np.abs(res[keep] - np.median(res[keep])))) * 1.4826
            new = np.abs(res) <= max(3 * mad, 1e-9)
            if new.sum() < 2 or (new == keep).all():
                break
            keep = new
        if not slope > 0:
            slope, icpt = 1.0 / self.nominal_rate, float(np.median(y - x / self.nominal_rate))
        self.jitter = float(np.std(res[keep])) if keep.sum() > 2 else 0.0
        self._fit = (i_ref, t_ref + float(icpt), float(slope))

    # -- reading ---------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """True once at least one stamp is known."""
        return self._fit is not None

    @property
    def rate(self) -> float:
        """Fitted sample rate (Hz); the nominal one until two stamps are known."""
        return 1.0 / self._fit[2] if self._fit else self.nominal_rate

    @property
    def drift_ppm(self) -> float:
        """How far the fitted rate is from the nominal one, in parts per million."""
        return (self.rate / self.nominal_rate - 1.0) * 1e6

    @property
    def offset(self) -> float:
        """Fitted time of sample 0."""
        return self._time_one(0)

    def _time_one(self, index: int) -> float:
        if self._fit is None:
            raise ValueError("the time model has no stamps yet")
        i_ref, t_ref, dt = self._fit
        return t_ref + (index - i_ref) * dt

    def time_of(self, index: Any) -> Any:
        """Time of sample ``index`` (an int or an array of them) on the fitted line."""
        if self._fit is None:
            raise ValueError("the time model has no stamps yet")
        i_ref, t_ref, dt = self._fit
        if np.ndim(index) == 0:
            return t_ref + (int(index) - i_ref) * dt
        return t_ref + (np.asarray(index, dtype=np.int64) - i_ref) * dt

    def index_at(self, t: Any) -> Any:
        """Index of the sample nearest time ``t`` (a float or an array of them)."""
        if self._fit is None:
            raise ValueError("the time model has no stamps yet")
        i_ref, t_ref, dt = self._fit
        if np.ndim(t) == 0:
            return i_ref + int(round((float(t) - t_ref) / dt))
        return i_ref + np.rint((np.asarray(t, dtype=np.float64) - t_ref) / dt).astype(np.int64)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for a manifest: the fitted line and its quality."""
        out: dict[str, Any] = dict(nominal_rate=self.nominal_rate, resets=self.resets,
                                   n_points=len(self._points))
        if self._fit is not None:
            out.update(offset=self.offset, rate=self.rate, drift_ppm=self.drift_ppm,
                       jitter=self.jitter)
        return out
