"""Sync-line signal processing: edges of a TTL line, barcodes, matching pulse trains, robust fits.

Pure numpy (no storage): :mod:`.align` reads the lines of a recording and uses these.
Edge positions are fractional sample indexes: on a digital line the middle between the
last low and the first high sample (``i - 0.5``); on an analog line the mid-level crossing,
interpolated between the two samples around it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import Error

__all__ = ["Edges", "EdgeScanner", "levels", "analog_edges", "digital_edges", "match_pulses", "AmbiguousPulses",
           "robust_line", "decode_barcodes", "barcode_signal"]

HYSTERESIS = 0.1     # of the line's range, either side of mid-level


class Edges:
    """Rising and falling edges of one line (fractional sample indexes)."""

    def __init__(self, rising: np.ndarray, falling: np.ndarray):
        self.rising = np.asarray(rising, float)
        self.falling = np.asarray(falling, float)


def _hold(state: np.ndarray) -> np.ndarray:
    """Forward-fill the -1 (undecided) entries of a 0/1 state array (leading ones: 0)."""
    pos = np.where(state >= 0, np.arange(len(state)), 0)
    np.maximum.accumulate(pos, out=pos)
    out = state[pos]
    out[out < 0] = 0
    return out


def _transitions(state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.diff(state.astype(np.int8))
    return np.nonzero(d == 1)[0] + 1, np.nonzero(d == -1)[0] + 1


def levels(sample: np.ndarray) -> tuple[float, float] | None:
    """``(mid, hysteresis)`` of an analog line from a sample of its values: mid-range of
    its 0.1 and 99.9 percentiles, +- 10 % of that range; None when the line is flat."""
    sample = np.asarray(sample, float)
    sample = sample[np.isfinite(sample)]
    if len(sample) < 2:
        return None
    lo, hi = np.percentile(sample, [0.1, 99.9])
    span = float(hi - lo)
    if not span > 1e-9 * max(1.0, abs(float(hi))):
        return None
    return float(lo + hi) / 2, HYSTERESIS * span


class EdgeScanner:
    """Edges of a line fed a block at a time (the state carried across blocks, so memory
    is one block's).  Digital: levels 1/0, -1 unknown (a gap keeps the last level).
    Analog (``level`` from :func:`levels`): high above mid + h, low below mid - h, NaN
    keeps the state."""

    _TAIL = 9        # samples kept from the last block (the analog crossing looks back 8)

    def __init__(self, level: tuple[float, float] | None = None):
        self.level = level
        self._x = np.zeros(0, np.float32)
        self._s = np.zeros(0, np.int8)
        self._end: int | None = None
        self._rising: list[np.ndarray] = []
        self._falling: list[np.ndarray] = []

    def push(self, start: int, values: np.ndarray) -> None:
        """Samples ``[start, start + len(values))``; a jump in ``start`` is a gap."""
        if self._end is not None and start != self._end:      # a gap: keep the level only
            self._x, self._s = np.full(1, np.nan, np.float32), self._s[-1:]
        self._end = start + len(values)
        if self.level is None:
            state, x = np.asarray(values, np.int8), None
        else:
            x = np.asarray(values, np.float32)
            mid, h = self.level
            state = np.full(len(x), -1, np.int8)
            state[x > mid + h] = 1
            state[x < mid - h] = 0
        tail = len(self._s)
        held = _hold(np.concatenate([self._s, state]))
        base = start - tail
        up, down = _transitions(held)
        up, down = up[up >= tail], down[down >= tail]       # the tail's were found before
        if x is None:
            self._rising.append(up + base - 0.5)
            self._falling.append(down + base - 0.5)
        else:
            xe = np.concatenate([self._x, x])
            self._rising.append(_crossing(xe, up, mid, 1) + base)
            self._falling.append(_crossing(xe, down, mid, -1) + base)
            self._x = xe[-self._TAIL:]
        self._s = held[-self._TAIL:]
        if x is None:
            self._x = np.full(len(self._s), np.nan, np.float32)

    def edges(self) -> Edges:
        """The edges found so far."""
        return Edges(np.concatenate(self._rising or [np.zeros(0)]),
                     np.concatenate(self._falling or [np.zeros(0)]))


def digital_edges(state: np.ndarray) -> Edges:
    """Edges of a digital line: 1 high, 0 low, -1 unknown (a gap: keeps the last level)."""
    scan = EdgeScanner()
    scan.push(0, state)
    return scan.edges()


def analog_edges(x: np.ndarray) -> Edges | None:
    """Edges of an analog line (:class:`EdgeScanner` at :func:`levels` of all of it);
    None when the line is flat."""
    level = levels(np.asarray(x, np.float32))
    if level is None:
        return None
    scan = EdgeScanner(level)
    scan.push(0, x)
    return scan.edges()


def _crossing(x: np.ndarray, at: np.ndarray, mid: float, sign: int) -> np.ndarray:
    """Fractional index where ``x`` crosses ``mid`` just before each hysteresis flip."""
    k = at.copy()
    for _ in range(8):              # step back over samples still past mid (slow slopes)
        back = (k > 1) & (sign * (x[np.maximum(k - 1, 0)] - mid) > 0)
        if not back.any():
            break
        k[back] -= 1
    k = np.maximum(k, 1)
    a, b = x[k - 1].astype(float), x[k].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(b != a, (mid - a) / (b - a), 0.5)
    return k - 1 + np.clip(np.nan_to_num(frac, nan=0.5), 0.0, 1.0)


def robust_line(x: np.ndarray, y: np.ndarray, rounds: int = 4) -> tuple[float, float, np.ndarray]:
    """``(a, b, inliers)`` of ``y = a + b * x`` by least squares, dropping points further
    than 5 robust SDs (MAD) from the line, refitted ``rounds`` times.  ``x`` is centred
    internally (sample indexes in the millions keep their precision)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    a = b = 0.0
    for _ in range(rounds):
        if keep.sum() < 2:
            break
        xc, yc = x[keep].mean(), y[keep].mean()
        b, a0 = np.polyfit(x[keep] - xc, y[keep] - yc, 1)
        a = yc + a0 - b * xc
        res = y - (a + b * x)
        mad = 1.4826 * np.median(np.abs(res[keep]))
        new = np.isfinite(res) & (np.abs(res) <= max(5 * mad, 1e-9))
        if (new == keep).all():
            break
        keep = new
    return float(a), float(b), keep


def _signature_pairs(r: np.ndarray, s: np.ndarray, tol: float, m: int,
                     max_pairs: int = 1 << 21) -> np.ndarray:
    """``(j, k)`` pairs where the ``m`` intervals after edge ``r[j]`` and after ``s[k]``
    agree within ``tol`` each (about ``max_pairs`` candidates checked at most: past that,
    every few ``k`` only)."""
    if len(r) <= m or len(s) <= m:
        return np.zeros((0, 2), np.int64)
    sr = np.lib.stride_tricks.sliding_window_view(np.diff(r), m)
    ss = np.lib.stride_tricks.sliding_window_view(np.diff(s), m)
    order = np.argsort(sr[:, 0], kind="stable")
    keys = sr[order, 0]
    lo = np.searchsorted(keys, ss[:, 0] - tol, "left")
    hi = np.searchsorted(keys, ss[:, 0] + tol, "right")
    count = hi - lo
    ks = np.nonzero(count)[0]
    stride = max(1, int(count.sum()) // max_pairs + 1)    # a regular train: every window
    ks = ks[::stride]                                     # matches every one; any do
    n = count[ks]
    k = np.repeat(ks, n)
    first = np.repeat(np.cumsum(n) - n, n)
    j = order[np.repeat(lo[ks], n) + np.arange(len(k)) - first]
    ok = np.all(np.abs(sr[j] - ss[k]) <= tol, axis=1)
    return np.stack([j[ok], k[ok]], axis=1).astype(np.int64)


class AmbiguousPulses(Error, ValueError):
    """The pulse train is regular enough that more than one offset matches it."""


def _nearest(r: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Index of the element of sorted ``r`` nearest each of ``pred``."""
    j = np.clip(np.searchsorted(r, pred), 1, max(1, len(r) - 1))
    hi = np.minimum(j, len(r) - 1)
    return np.where(np.abs(r[j - 1] - pred) <= np.abs(r[hi] - pred), j - 1, hi)


def _matches(r: np.ndarray, s: np.ndarray, a: float, b: float, tol: float) -> np.ndarray:
    """For each edge of ``s``, the edge of ``r`` within ``tol`` of ``a + b * s``, or -1."""
    pred = a + b * s
    j = _nearest(r, pred)
    return np.where(np.abs(r[j] - pred) <= tol, j, -1)


def match_pulses(r: np.ndarray, s: np.ndarray, tol: float, m: int = 4,
                 hint: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indexes ``(jr, ks)`` of the edges of ``s`` matched to edges of ``r`` (both in
    seconds on their own clocks, any offset, drift << tol per interval).

    Pulses at irregular intervals: runs of ``m`` inter-pulse intervals that agree within
    ``tol`` propose pairs; the most common offset among them and a robust line through
    its pairs (offset and rate) reject chance agreements; then every edge of ``s`` takes
    the edge of ``r`` within ``tol`` of where the line puts it (the line refitted to the
    matches until they stop growing).  Missing or extra edges only lose their own pairs.
    When the line shifted by the median interval matches half as many (a regular train),
    ``hint`` (the expected ``r - s``, e.g. from the streams' stamps) picks the shift
    within a quarter interval of it; without one, :class:`AmbiguousPulses`."""
    r, s = np.asarray(r, float), np.asarray(s, float)
    none = np.zeros(0, np.int64), np.zeros(0, np.int64)
    pairs = _signature_pairs(r, s, tol, m)
    if len(pairs) < 2:
        return none
    off = r[pairs[:, 0]] - s[pairs[:, 1]]
    bins = np.round(off / max(4 * tol, 1e-3))
    values, counts = np.unique(bins, return_counts=True)
    near = np.abs(bins - values[np.argmax(counts)]) <= 1
    if near.sum() < 2:
        return none
    a, b, _ = robust_line(s[pairs[near, 1]], r[pairs[near, 0]])
    period = float(np.median(np.diff(r)))
    shifted = max(int((_matches(r, s, a + k * period, b, tol) >= 0).sum()) for k in (-1, 1))
    j = _matches(r, s, a, b, tol)
    if shifted >= 0.5 * (j >= 0).sum():
        mid = float(np.median(s))
        if hint is None:
            raise AmbiguousPulses(f"the pulses come at regular intervals ({period:.4g} s): "
                                  "shifted by one interval they match as well")
        k = round((mid + hint - (a + b * mid)) / period)
        if abs(mid + hint - (a + k * period + b * mid)) > period / 4:
            raise AmbiguousPulses(f"the pulses come at regular intervals ({period:.4g} s) and "
                                  f"the stamps do not tell which one is which (they place "
                                  f"the lines {hint:+.4g} s apart)")
        a += k * period
    for _ in range(8):
        j = _matches(r, s, a, b, tol)
        ok = j >= 0
        if ok.sum() < 2:
            return none
        a2, b2, _ = robust_line(s[ok], r[j[ok]])
        if (_matches(r, s, a2, b2, tol) >= 0).sum() <= ok.sum():
            break
        a, b = a2, b2
    ks = np.nonzero(ok)[0]
    jr = j[ok]
    _, first = np.unique(jr, return_index=True)      # one s edge per r edge
    return jr[first], ks[first]


# -- barcodes --------------------------------------------------------------------------
def barcode_signal(n: int, rate: float, t_of_index: Callable[[np.ndarray], np.ndarray],
                   starts: np.ndarray, values: np.ndarray,
                   bit: float = 0.03, nbits: int = 32) -> np.ndarray:
    """A boolean line of ``n`` samples carrying barcodes (for tests and generators):
    at each start time a start pulse (high ``bit`` s, low ``bit`` s), then ``nbits``
    bits of ``bit`` s each, least significant first.  ``t_of_index(i)`` gives each
    sample's true time."""
    t = t_of_index(np.arange(n))
    out = np.zeros(n, bool)
    for t0, v in zip(starts, values):
        i0, i1 = np.searchsorted(t, [t0, t0 + (nbits + 2) * bit])
        dt = (t[i0:i1] - t0) / bit
        slot = np.floor(dt).astype(int)
        level = slot == 0
        b = slot - 2
        inbits = (b >= 0) & (b < nbits)
        level[inbits] = (int(v) >> b[inbits]) & 1 == 1
        out[i0:i1] = level
    return out


def decode_barcodes(edges: Edges, rate: float, bit: float = 0.03, nbits: int = 32
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(start positions, values)`` of the barcodes on a line (see :func:`barcode_signal`):
    a barcode starts at a rising edge after more than ``nbits + 3`` bits of low; each bit
    is read at its centre."""
    up, down = edges.rising, edges.falling
    if not len(up):
        return np.zeros(0), np.zeros(0, np.int64)
    span = bit * rate
    prev_down = np.concatenate([[-np.inf], down])
    last_fall = prev_down[np.searchsorted(down, up)]
    starts = up[up - last_fall > (nbits + 3) * span]
    values = []
    ups, downs = np.r_[-np.inf, up], np.r_[-np.inf, down]
    for s0 in starts:
        centres = s0 + (np.arange(nbits) + 2.5) * span
        rise = ups[np.searchsorted(ups, centres, "right") - 1]    # last rise before each
        fall = downs[np.searchsorted(downs, centres, "right") - 1]
        high = rise > fall
        values.append(int(np.sum(high.astype(np.int64) << np.arange(nbits, dtype=np.int64))))
    return np.asarray(starts, float), np.asarray(values, np.int64)
