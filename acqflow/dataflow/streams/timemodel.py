"""TimeModel: a stream's clock, ``time(index) = offset + index / rate``, fitted online to its stamps.

Each stamp pairs a sample index with the time that sample was taken (a chunk's stamp is the
time of its last sample).  Stamps jitter (drivers stamp at arrival) and a device's crystal
drifts from its nominal rate; a linear fit over a sliding window of stamps, with outliers
rejected, estimates both, as LSL's dejitter does offline.  A clock step (a stamp far off the
fitted line, several times in a row; a gap in the indexes whose time does not match) restarts
the fit.

Cost: ``update`` only queues the stamp (a list append); queued stamps are folded in by
batches, or when the model is read, with running least-squares sums (O(1) per stamp), and a
robust refit (outliers beyond 3 MADs out) runs at most every ``refit`` seconds of stamps and
every window of new stamps (half while the window fills), so its O(window) cost stays
O(1) per stamp.
"""
from __future__ import annotations

import array
import math
from collections import deque
from typing import Any

import numpy as np

from ..paramcheck import positive_number

__all__ = ["TimeModel", "StreamTimes"]

_BATCH = 1024          # queued stamps folded in at once (the fit reads the queue first)
_MAX_SLOPE_SE = 2e-4   # relative standard error under which the fitted rate replaces the nominal one
_MIN_GATE = 1e-4       # s: stamps this close to the line always count as inliers
_WRONG_RATE = 0.1      # a fitted rate this far (relative) from the nominal one: the nominal is wrong


class TimeModel:
    """Online estimate of ``time(index)`` and its inverse for one stream.

    ``nominal_rate``: the stream's declared sample rate (Hz), used until the stamps determine
    the rate better than 200 ppm (at once where they contradict it: a wrong or default rate).
    ``window``: seconds of stamps the fit looks at.  ``step``: a stamp further than this many
    seconds (and 10 jitters) off the line, ``step_count`` times in a row, is a clock step and
    restarts the fit.  ``refit``: seconds of stamps between robust
    refits (outlier rejection, jitter estimate), at least.

    ``since`` is the index of the current fit's first stamp, ``starts`` every fit's (restarts
    included), ``ended`` the last line of each fit a restart ended (``to_dict`` form): what a
    recording needs to place samples offline.  Not thread-safe.
    """

    def __init__(self, nominal_rate: float, window: float = 30.0, step: float = 0.05,
                 step_count: int = 3, max_points: int = 4096, refit: float = 0.5):
        self.nominal_rate = positive_number("nominal_rate", nominal_rate, " Hz")
        self.window = float(window)
        self.step = float(step)
        self.step_count = max(1, int(step_count))
        self.max_points = max(8, int(max_points))
        self.refit_every = float(refit)
        self._resets = 0
        self._jitter = 0.0
        self.starts: deque[int] = deque(maxlen=10000)   # first stamp index of each fit (restarts)
        self.ended: deque[dict] = deque(maxlen=100)      # the last line of each fit a reset ended
        # stamps not yet folded in: (index_stop, t) in two flat arrays (no object per chunk
        # for the garbage collector to walk; numpy reads them without a copy)
        self._queue_i = array.array("q")
        self._queue_t = array.array("d")
        self._clear()

    def _clear(self) -> None:
        cap = 2 * self.max_points + 2 * _BATCH
        self._i = np.zeros(cap, dtype=np.int64)      # the window's stamps: _i/_t[_lo:_hi]
        self._t = np.zeros(cap, dtype=np.float64)
        self._in = np.zeros(cap, dtype=bool)          # counted in the running sums
        self._lo = self._hi = 0
        self._off: list[tuple[int, float]] = []       # consecutive stamps off the line
        self._anchor: tuple[int, float] | None = None
        self._sums = [0, 0.0, 0.0, 0.0, 0.0]          # n, Sx, Sy, Sxx, Sxy (anchored)
        self._fit: tuple[int, float, float] | None = None   # (i_ref, t_ref, seconds per sample)
        self._last_index: int | None = None
        self._last_refit = -math.inf
        self._since_refit = 0
        self._n_refit = 0
        self._sigma = 0.0                             # robust residual scale (s)
        self._gate = math.inf                         # inliers: this close to the line (s)
        self._jitter = 0.0
        self.since: int | None = None                 # index of the current fit's first stamp

    # -- feeding ---------------------------------------------------------------------------
    def update(self, index_stop: int, t: float) -> None:
        """A chunk ending before ``index_stop`` whose last sample was taken at ``t`` (cheap:
        queued, folded in by batches or when the model is read)."""
        qi = self._queue_i
        try:
            qi.append(index_stop)         # (the last sample's index is index_stop - 1: _absorb)
        except TypeError:                 # a float index: as numpy converts it
            try:
                qi.append(int(np.int64(index_stop)))
            except (TypeError, ValueError, OverflowError):
                return                    # no int64 index: no stamp to fold in
        except OverflowError:
            return
        try:
            self._queue_t.append(t)
        except TypeError:
            qi.pop()
            return
        if len(qi) >= _BATCH:
            self._absorb()

    def add(self, indexes: Any, times: Any) -> None:
        """Per-sample stamps: ``times[k]`` is when sample ``indexes[k]`` was taken."""
        idx = np.asarray(indexes).reshape(-1)
        ts = np.asarray(times, dtype=np.float64).reshape(-1)
        if idx.shape != ts.shape:
            raise ValueError(f"{idx.size} indexes for {ts.size} times")
        if self._queue_i:
            self._absorb()
        step = 1 << 16
        for k in range(0, idx.size, step):
            self._take(idx[k:k + step], ts[k:k + step])

    def reset(self) -> None:
        """Forget every stamp (a gap, a new clock): the next stamps start a new fit."""
        if self._fit is not None:
            self.ended.append(self._summary())
        del self._queue_i[:], self._queue_t[:]
        self._clear()
        self._resets += 1

    def refit(self) -> None:
        """A robust fit over the whole window now (offline use: the final line)."""
        if self._queue_i:
            self._absorb()
        if self._hi > self._lo:
            self._robust()

    def _absorb(self) -> None:
        """Fold the queued ``(index_stop, t)`` stamps in (the sample's index: index_stop - 1)."""
        idx = np.frombuffer(self._queue_i, np.int64) - 1       # (a copy: the queue is reused)
        ts = np.array(self._queue_t, np.float64)
        del self._queue_i[:], self._queue_t[:]
        self._take(idx, ts)

    def _take(self, idx: np.ndarray, ts: np.ndarray) -> None:
        """Fold stamps in: vectorized while they follow the line, one by one around a step."""
        if idx.dtype.kind == "f":
            ok = np.isfinite(idx) & (np.abs(idx) < 2.0 ** 62)
            idx, ts = idx[ok], ts[ok]
        idx = idx.astype(np.int64, copy=False)
        ok = np.isfinite(ts) & (np.abs(idx) < 1 << 62)
        if not ok.all():
            idx, ts = idx[ok], ts[ok]
        if idx.size == 0:
            return
        # only stamps after every earlier one (out of order or repeated: ignored)
        before = np.maximum.accumulate(np.concatenate(([-(1 << 62) if self._last_index is None
                                                        else self._last_index], idx[:-1])))
        ok = idx > before
        if not ok.all():
            idx, ts = idx[ok], ts[ok]
        k = 0
        while k < idx.size:
            if self._fit is None and self._hi - self._lo >= 8 and not self._off:
                self._solve()             # a first line as soon as there are points for one
            if self._fit is None or self._hi - self._lo < 8 or self._off:
                self._add_one(int(idx[k]), float(ts[k]))
                k += 1
                continue
            i_ref, t_ref, dt = self._fit
            res = np.abs(ts[k:] - (t_ref + (idx[k:] - i_ref) * dt))
            far = np.flatnonzero(res > max(self.step, 10 * self._sigma))
            stop = idx.size if far.size == 0 else k + int(far[0])
            if stop > k:
                self._push(idx[k:stop], ts[k:stop], res[:stop - k] <= self._gate)
            if stop < idx.size:
                self._add_one(int(idx[stop]), float(ts[stop]))
                stop += 1
            k = stop
        if self._hi > self._lo:
            self._solve()

    def _add_one(self, i: int, t: float) -> None:
        inlier = True
        if self._fit is not None and self._hi - self._lo >= 8:
            miss = abs(t - self._time_one(i))
            if miss > max(self.step, 10 * self._sigma):
                self._off.append((i, t))
                self._last_index = i
                if len(self._off) < self.step_count:
                    return
                off = self._off
                self.reset()                         # a clock step: start again from there
                for i0, t0 in off:
                    self._push(np.array([i0], np.int64), np.array([t0]), np.ones(1, bool))
                return
            inlier = miss <= self._gate
        self._off.clear()
        self._push(np.array([i], np.int64), np.array([t]), np.array([inlier]))

    def _push(self, idx: np.ndarray, ts: np.ndarray, inl: np.ndarray) -> None:
        m = idx.size
        if self._anchor is None:
            self._anchor = (int(idx[0]), float(ts[0]))
            self.since = int(idx[0])
            self.starts.append(self.since)
        if self._hi + m > self._i.size:               # compact, grow if needed
            n = self._hi - self._lo
            if n + m > self._i.size:
                cap = 2 * (n + m)
                self._i, self._t, self._in = (np.concatenate((a[self._lo:self._hi], np.zeros(cap - n, a.dtype)))
                                              for a in (self._i, self._t, self._in))
            else:
                for a in (self._i, self._t, self._in):
                    a[:n] = a[self._lo:self._hi]
            self._lo, self._hi = 0, n
        hi = self._hi
        self._i[hi:hi + m] = idx
        self._t[hi:hi + m] = ts
        self._in[hi:hi + m] = inl
        self._hi = hi + m
        self._last_index = int(idx[-1])
        self._since_refit += m
        self._sum(idx[inl], ts[inl], 1)
        lo = self._lo
        t_last = float(ts[-1])
        new_lo = max(lo, self._hi - self.max_points)
        if t_last - self._t[new_lo] > self.window:
            new_lo = lo + int(np.searchsorted(self._t[lo:self._hi], t_last - self.window))
        new_lo = min(new_lo, self._hi - 2)
        if new_lo > lo:
            keep = self._in[lo:new_lo]
            self._sum(self._i[lo:new_lo][keep], self._t[lo:new_lo][keep], -1)
            self._lo = new_lo

    def _sum(self, idx: np.ndarray, ts: np.ndarray, sign: int) -> None:
        if idx.size == 0:
            return
        assert self._anchor is not None      # set by the first add()
        x = (idx - self._anchor[0]).astype(np.float64)
        y = ts - self._anchor[1]
        s = self._sums
        s[0] += sign * int(x.size)
        s[1] += sign * float(x.sum())
        s[2] += sign * float(y.sum())
        s[3] += sign * float(x @ x)
        s[4] += sign * float(x @ y)

    def _solve(self) -> None:
        """The fit from the running sums; a robust refit when due."""
        last_t = float(self._t[self._hi - 1])
        n_pts = self._hi - self._lo
        due = n_pts // 2 if n_pts > self._n_refit else n_pts     # growing window: sooner
        if n_pts < 16 or (last_t - self._last_refit >= self.refit_every and self._since_refit >= due):
            self._robust()
            self._last_refit, self._since_refit, self._n_refit = last_t, 0, n_pts
            return
        n, sx, sy, sxx, sxy = self._sums
        if n < 1:
            self._robust()
            return
        assert self._anchor is not None      # sums exist: so does their anchor
        ai, at = self._anchor
        mx, my = sx / n, sy / n
        vxx = sxx - sx * mx
        slope = self._slope((sxy - sx * my) / vxx if vxx > 0 else math.nan, vxx, n)
        self._set_fit(ai, at, mx, my, slope)

    def _slope(self, slope: float, vxx: float, n: float) -> float:
        """The fitted seconds per sample when the stamps determine it well (enough of them to
        know their jitter, a standard error under 200 ppm) or contradict the nominal one (more
        than 10 % and 5 standard errors off: a wrong or default sample rate, on whose line
        every stamp would be a clock step), else the nominal one."""
        nominal = 1.0 / self.nominal_rate
        if not (math.isfinite(slope) and slope > 0) or vxx <= 0 or n < 8:
            return nominal
        se = self._sigma / math.sqrt(vxx)
        if se <= _MAX_SLOPE_SE * slope or abs(slope - nominal) > max(_WRONG_RATE * nominal, 5 * se):
            return slope
        return nominal

    def _set_fit(self, ai: int, at: float, mx: float, my: float, slope: float) -> None:
        i_ref = int(self._i[self._hi - 1])
        t_ref = at + my + (i_ref - ai - mx) * slope
        if math.isfinite(t_ref) and math.isfinite(slope) and slope > 0:
            self._fit = (i_ref, t_ref, slope)

    def _robust(self) -> None:
        """Least squares with outliers (> 3 MADs) out, over every point in the window, starting
        from the current inliers; the running sums restart from its inliers, anchored at the
        newest point."""
        lo, hi = self._lo, self._hi
        ai, at = int(self._i[hi - 1]), float(self._t[hi - 1])
        x = (self._i[lo:hi] - ai).astype(np.float64)
        y = self._t[lo:hi] - at
        n = len(x)
        keep = self._in[lo:hi].copy()
        if n < 16 or keep.sum() < 8:
            keep[:] = True
        slope = 1.0 / self.nominal_rate
        sigma = 0.0
        for _ in range(3):
            xk, yk = x[keep], y[keep]
            xm, ym = float(xk.mean()), float(yk.mean())
            dx = xk - xm
            vxx = float(dx @ dx)
            fitted = float(dx @ (yk - ym)) / vxx if vxx > 0 else math.nan
            if math.isfinite(fitted) and fitted > 0:
                slope = fitted
            res = y - (ym + slope * (x - xm))
            rk = res[keep]
            sigma = float(np.median(np.abs(rk - np.median(rk)))) * 1.4826 if rk.size > 2 else 0.0
            if rk.size < 8:
                break
            new = np.abs(res) <= max(3 * sigma, 1e-9)
            if new.sum() < 2 or (new == keep).all():
                break
            keep = new
        xk, yk = x[keep], y[keep]
        self._sigma = sigma
        self._jitter = float(np.std(res[keep])) if xk.size > 2 else 0.0
        # new stamps count in the running sums within 5 sigmas, once the sigma is known
        self._gate = max(_MIN_GATE, 5 * sigma) if xk.size >= 8 else math.inf
        # restart the sums from the inliers, anchored here (keeps them well conditioned)
        self._anchor = (ai, at)
        self._in[lo:hi] = keep
        self._sums = [int(xk.size), float(xk.sum()), float(yk.sum()), float(xk @ xk), float(xk @ yk)]
        xm, ym = float(xk.mean()), float(yk.mean())
        dx = xk - xm
        self._set_fit(ai, at, xm, ym, self._slope(slope, float(dx @ dx), int(xk.size)))

    # -- reading ---------------------------------------------------------------------------
    @property
    def resets(self) -> int:
        """How many times the fit restarted (clock steps, gaps)."""
        self._current()
        return self._resets

    @property
    def jitter(self) -> float:
        """Standard deviation (s) of the inlier stamps around the line at the last robust fit."""
        self._current()
        return self._jitter

    def _current(self) -> tuple[int, float, float] | None:
        if self._queue_i:
            self._absorb()
        return self._fit

    @property
    def ready(self) -> bool:
        """True once at least one stamp is known."""
        return self._current() is not None

    @property
    def rate(self) -> float:
        """Fitted sample rate (Hz); the nominal one until the stamps determine it."""
        fit = self._current()
        return 1.0 / fit[2] if fit else self.nominal_rate

    @property
    def drift_ppm(self) -> float:
        """How far the fitted rate is from the nominal one, in parts per million."""
        return (self.rate / self.nominal_rate - 1.0) * 1e6

    @property
    def offset(self) -> float:
        """Fitted time of sample 0."""
        return self._time_one(0)

    @property
    def n_points(self) -> int:
        """Stamps in the current window."""
        self._current()
        return self._hi - self._lo

    def _line(self) -> tuple[int, float, float]:
        """The fitted line (index, time, seconds per sample); ValueError before any stamp."""
        fit = self._current()
        if fit is None:
            raise ValueError("the time model has no stamps yet")
        return fit

    def _time_one(self, index: int) -> float:
        i_ref, t_ref, dt = self._line()
        return t_ref + (index - i_ref) * dt

    def time_of(self, index: Any) -> Any:
        """Time of sample ``index`` (an int or an array of them) on the fitted line."""
        i_ref, t_ref, dt = self._line()
        if np.ndim(index) == 0:
            return t_ref + (int(index) - i_ref) * dt
        return t_ref + (np.asarray(index, dtype=np.int64) - i_ref) * dt

    def index_at(self, t: Any) -> Any:
        """Index of the sample nearest time ``t`` (a float or an array of them)."""
        i_ref, t_ref, dt = self._line()
        if np.ndim(t) == 0:
            return i_ref + int(round((float(t) - t_ref) / dt))
        return i_ref + np.rint((np.asarray(t, dtype=np.float64) - t_ref) / dt).astype(np.int64)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for a manifest: the fitted line and its quality."""
        self._current()
        return self._summary()

    def _summary(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(nominal_rate=self.nominal_rate, resets=self.resets,
                                   n_points=self._hi - self._lo)
        if self._fit is not None:
            i_ref, t_ref, dt = self._fit
            out.update(offset=t_ref - i_ref * dt, rate=1.0 / dt,
                       drift_ppm=(1.0 / dt / self.nominal_rate - 1.0) * 1e6,
                       jitter=self.jitter, index=int(i_ref), time=float(t_ref), since=self.since)
        return out


class StreamTimes:
    """An input's time model (mixed into InputStream): ``time_model`` (a :class:`TimeModel`,
    None for streams without a sample rate) is fitted to the chunks' sample times on this
    process's clock; ``time_of(index)`` and ``index_at(t)`` read it (docs/streams.md, "The
    time model").  Not thread-safe: read it in the thread that receives."""

    time_model: TimeModel | None = None
    last_send_time: float | None = None     # the sender's clock.now() at the last chunk's send
    last_sample_time: float | None = None   # when its last sample was taken (the sender's clock)
    local_sample_time: float | None = None  # the same on this process's clock (None: unknown)

    def _label(self) -> str:  # pragma: no cover - InputStream's
        return "input"

    def _make_time_model(self, params: dict) -> None:
        """A TimeModel for a stream with a sample rate (kept across reconnects to the same
        rate); None for event streams."""
        rate = params.get("sample_rate")
        if params.get("streamtype") == "event" or isinstance(rate, bool) or \
                not isinstance(rate, (int, float)) or not (math.isfinite(rate) and rate > 0):
            self.time_model = None
        elif self.time_model is None or self.time_model.nominal_rate != float(rate):
            self.time_model = TimeModel(float(rate))

    def _stamp(self, head: Any, off: float | None) -> None:
        """A received chunk's times (wire Header); ``off``: the sender's clock minus this
        process's (None while unknown: the model waits for it).  Runs for every chunk."""
        sent = self.last_send_time = head.send_time
        taken = head.sample_time
        if taken is None:
            taken = sent
        self.last_sample_time = taken
        if off is None:
            self.local_sample_time = None
            return
        local = self.local_sample_time = taken - off
        if self.time_model is not None:
            self.time_model.update(head.index, local)

    def _restart_times(self) -> None:
        if self.time_model is not None:
            self.time_model.reset()

    def time_of(self, index: Any) -> Any:
        """Time (this process's clock) of sample ``index`` (int or array) on the stream's
        fitted time model; ValueError while no chunk has arrived."""
        return self._model().time_of(index)

    def index_at(self, t: Any) -> Any:
        """Index of the sample nearest time ``t`` (this process's clock; float or array)."""
        return self._model().index_at(t)

    def _model(self) -> TimeModel:
        if self.time_model is None:
            from ..errors import StreamError
            raise StreamError(f"{self._label()}: the stream has no sample rate (an event or "
                              f"irregular stream), so no time model")
        return self.time_model
