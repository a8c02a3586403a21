"""Is a stored stream on one regular time grid? The one answer every exporter uses.

A stream's sample times come from its chunks' stamps (``StreamData.times``).  Each
stored chunk ``k`` implies a grid origin ``e_k = t_k - (stop_k - 1) / rate`` (the time
its stamp gives sample 0).  Within ``tolerance`` of each other, the chunks share one
grid: exporters may write a fixed rate.  Otherwise:

* a **step** (``|e_k - e_(k-1)| > tolerance``: a pause of the source, a clock step, a
  gap whose duration is not its sample count) starts a new :class:`Segment`; WAV writes
  one file per segment;
* a stream is **regular** when it is one segment and no chunk strays more than
  ``tolerance`` from the grid of its first stored sample (slow drift of the stamps past
  the tolerance makes it irregular, without a step); NWB then writes ``rate`` and
  ``starting_time``, HDF5 no ``times`` dataset, video a constant frame rate.  Else they
  write each sample's stored time.

Default tolerance: the larger of half a sample period and :data:`JITTER` (10 ms), the
delivery jitter of software-stamped chunks, so a send that is a few ms late does not
turn a clock-paced stream into timestamps.  Gaps in the index whose time matches their
sample count stay on the grid (their samples are filled where they would have been).

A stream aligned to a common clock by a sync line (:mod:`.align`) takes its times from
that fit instead, here, for every exporter: one segment at the fitted rate, not
``regular`` (so formats that can write explicit times do: NWB ``timestamps``, HDF5
``times``), and :func:`sample_times` / :func:`filled_sample_times` give the fitted times.

A stream with a stored time model (the manifest's ``time_model``, the Recorder's live fit;
:mod:`.streamtime`) and no alignment takes its times from that model, likewise: one
segment per model segment at its fitted rate, ``regular`` when it is one segment whose
model is one straight line (within :data:`MODEL_EXACT`; else formats write each sample's
model time), and the model's time for every sample.  Streams without a stored model keep
their raw stamps.  ``times`` chooses, in every function here and every exporter:
``None`` (that default), ``'model'`` (the model, fitted offline from the stamps when none
is stored) or ``'stamps'`` (the raw stamps, alignment and model ignored).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from acqflow.dataflow.paramcheck import must_be, one_of

from .align_model import alignment_of, model_times
from .errors import StorageError
from .streamdata import StreamData
from .streamtime import StreamTimeModel

__all__ = ["IrregularTimesError", "Segment", "Timebase", "timebase", "sample_times",
           "filled_sample_times", "JITTER", "default_tolerance", "TIMES", "MODEL_EXACT",
           "time_model_of", "alignment_for"]

JITTER = 0.01        # s: stamps closer than this to the grid count as on it
MODEL_EXACT = 1e-6   # s: a model segment this close to its line is written as a fixed rate
TIMES = ("stamps", "model")
_BLOCK = 1 << 18     # samples per block of times computed at once (bounded memory)


class IrregularTimesError(StorageError, ValueError):
    """A fixed-rate format was asked for a stream whose times are not one regular grid."""


def default_tolerance(rate: float) -> float:
    """The larger of half a sample period and :data:`JITTER`."""
    return max(0.5 / rate, JITTER) if rate > 0 else JITTER


@dataclass(frozen=True)
class Segment:
    """Samples ``[start, stop)`` on one grid: sample ``i`` at ``t0 + (i - start) / rate``."""

    start: int
    stop: int
    t0: float
    rate: float

    def time(self, index: int | np.ndarray) -> float | np.ndarray:
        """Grid time of ``index`` (an int or an array of them)."""
        return self.t0 + (index - self.start) / self.rate


@dataclass(frozen=True)
class Timebase:
    """The time structure of samples ``[start, stop)`` of a stream (see the module doc)."""

    name: str
    start: int
    stop: int
    rate: float
    tolerance: float
    segments: tuple[Segment, ...]
    regular: bool
    max_error: float        # largest distance of a chunk's grid from the first one's, s
    aligned: str | None = None    # reference stream of the common clock, when aligned
    model: bool = False           # the times are the stream's fitted time model's

    @property
    def starting_time(self) -> float | None:
        """Time of sample ``start`` on the first segment's grid (None when nothing stored)."""
        return float(self.segments[0].time(self.start)) if self.segments else None

    def breaks(self) -> list[str]:
        """One phrase per step between segments: where, and by how much time jumps."""
        out = []
        for a, b in zip(self.segments, self.segments[1:]):
            jump = b.t0 - a.time(b.start)
            out.append(f"times jump by {jump:+.6g} s at sample {b.start}")
        return out

    def summary(self) -> str:
        """One line: why this stream is not on one grid (empty when it is)."""
        if self.regular:
            return ""
        if self.aligned:
            jumps = f", {len(self.segments) - 1} clock step(s)" if len(self.segments) > 1 else ""
            return (f"stream {self.name!r}: aligned to the clock of {self.aligned!r} by a sync "
                    f"line ({self.segments[0].rate:.9g} Hz on it{jumps})")
        if not self.segments:
            return f"stream {self.name!r}: events, one time per record"
        steps = self.breaks()
        if self.model and not steps:
            return (f"stream {self.name!r}: its time model bends {self.max_error:.3g} s off one "
                    f"line at its fitted {self.segments[0].rate:.9g} Hz")
        if steps:
            more = f" (and {len(steps) - 1} more)" if len(steps) > 1 else ""
            return f"stream {self.name!r}: {steps[0]}{more}"
        return (f"stream {self.name!r}: its stamps drift {self.max_error:.3g} s from the "
                f"{self.rate:g} Hz grid (tolerance {self.tolerance:g} s)")


def _clock(stream: StreamData, t: np.ndarray, local: bool) -> np.ndarray:
    return np.asarray(stream.to_recorder_clock(t), float) if local and len(t) else t


def _check_times(times: str | None) -> None:
    if times is not None:
        one_of(*TIMES)("times", times)


def time_model_of(stream: StreamData, times: str | None = None) -> StreamTimeModel | None:
    """The model an export takes ``stream``'s times from (None: its raw stamps or its
    alignment): the stored one by default, any (fitted offline) with ``times='model'``."""
    _check_times(times)
    if times == "stamps" or stream.streamtype == "event" or not stream.sample_rate > 0:
        return None
    if times is None:
        stored = stream.entry.get("time_model")
        if not (isinstance(stored, dict) and stored.get("history")) or \
                alignment_of(stream) is not None:
            return None
    elif alignment_of(stream) is not None:
        return None
    m = stream.time_model
    if m is None or not m.segments or (times is None and m.source != "recorder"):
        return None
    return m


def alignment_for(stream: StreamData, times: str | None) -> dict | None:
    """The stream's sync-line alignment, unless ``times='stamps'`` asks for raw stamps."""
    return None if times == "stamps" else alignment_of(stream)


def _model_timebase(stream: StreamData, m: StreamTimeModel, start: int, stop: int,
                    rate: float, tol: float, local: bool) -> Timebase:
    """One segment per model segment at its fitted rate, t0 the model's time."""
    segs, error = [], 0.0
    last = len(m.segments) - 1
    for n, seg in enumerate(m.segments):
        s0 = start if n == 0 else max(start, int(seg["start"]))
        s1 = stop if n == last else min(stop, int(seg["stop"]))
        if s0 >= s1:
            continue
        knots = [int(k[0]) for k in seg["knots"] if s0 <= k[0] < s1]
        probe = np.unique(np.r_[s0, s1 - 1, knots, np.linspace(s0, s1 - 1, 65).round()])
        t = _clock(stream, np.asarray(m.time_of(probe), float), local)
        got = Segment(s0, s1, float(t[0]), float(seg["rate"]))
        error = max(error, float(np.max(np.abs(t - got.time(probe)))))
        segs.append(got)
    return Timebase(stream.name, start, stop, rate, tol, tuple(segs),
                    len(segs) == 1 and error <= min(tol, MODEL_EXACT), error, model=True)


def _model_block(stream: StreamData, m: StreamTimeModel, a: int, b: int,
                 local: bool) -> np.ndarray:
    return _clock(stream, np.asarray(m.time_of(np.arange(a, b)), float), local)


def timebase(stream: StreamData, start: int | None = None, stop: int | None = None,
             tolerance: float | None = None, local: bool = True,
             times: str | None = None) -> Timebase:
    """The grid segments of samples ``[start, stop)`` (recorder's clock if ``local``;
    ``times``: see the module doc)."""
    _check_times(times)
    start, stop = stream.bounds(start, stop)
    rate = float(stream.sample_rate)
    tol = default_tolerance(rate) if tolerance is None else float(tolerance)
    if not tol >= 0:
        must_be("time tolerance", "a number >= 0 s", tolerance)
    if stream.streamtype == "event" or rate <= 0:      # no grid: one time per record
        return Timebase(stream.name, start, stop, rate, tol, (), False, 0.0)
    m = time_model_of(stream, times)
    if m is not None and stop > start:
        return _model_timebase(stream, m, start, stop, rate, tol, local)
    al = alignment_for(stream, times)
    if al is not None:      # the sync-line fit: a grid on the common clock per piece
        pieces = al.get("pieces") or [[start, stop, al["a"], al["b"]]]
        segs = []
        for n, (p0, p1, a, b) in enumerate(pieces):
            s0 = start if n == 0 else max(start, int(p0))
            s1 = stop if n == len(pieces) - 1 else min(stop, int(p1))
            if s0 < s1:
                segs.append(Segment(s0, s1, a + b * s0, 1.0 / b))
        return Timebase(stream.name, start, stop, rate, tol, tuple(segs), False, 0.0,
                        str(al.get("reference")))
    a = stream.record_table(start, stop) if stop > start else {"t": np.zeros(0)}
    if not len(a["t"]):
        return Timebase(stream.name, start, stop, rate, tol, (), True, 0.0)
    stamps = _clock(stream, np.asarray(a["t"], float), local)
    lo = np.maximum(np.asarray(a["start"], np.int64), start)
    hi = np.minimum(np.asarray(a["stop"], np.int64), stop)
    origin = stamps - (np.asarray(a["stop"], np.int64) - 1) / rate   # time of sample 0
    steps = np.nonzero(np.abs(np.diff(origin)) > tol)[0] + 1
    firsts, lasts = np.r_[0, steps], np.r_[steps - 1, len(origin) - 1]
    segments = []
    for n, (k, j) in enumerate(zip(firsts, lasts)):
        # a gap across a step (samples between two segments) belongs to neither
        s0 = start if n == 0 else int(lo[k])
        s1 = stop if n == len(firsts) - 1 else int(hi[j])
        segments.append(Segment(s0, s1, float(origin[k]) + s0 / rate, rate))
    error = float(np.max(np.abs(origin - origin[0])))
    return Timebase(stream.name, start, stop, rate, tol, tuple(segments),
                    len(segments) == 1 and error <= tol, error)


def sample_times(stream: StreamData, start: int, stop: int, local: bool = True,
                 block: int = _BLOCK, times: str | None = None) -> Iterator[np.ndarray]:
    """Stored time of each sample of ``[start, stop)``, a block at a time (NaN in gaps);
    the common-clock time for an aligned stream (whatever ``local``), the model's time for
    a stream with a model (``times``: see the module doc)."""
    m = time_model_of(stream, times)
    al = None if m is not None else alignment_for(stream, times)
    for a in range(start, stop, block):
        b = min(stop, a + block)
        if m is None and al is None:
            yield np.asarray(stream.local_times(a, b) if local else stream.times(a, b), float)
            continue
        if m is not None:
            t = _model_block(stream, m, a, b, local)
        else:
            assert al is not None        # (neither: handled above)
            t = model_times(al, np.arange(a, b, dtype=float))
        for g0, g1 in stream.gaps_in(a, b):
            t[g0 - a:g1 - a] = np.nan
        yield t


def filled_sample_times(stream: StreamData, start: int, stop: int, local: bool = True,
                        block: int = _BLOCK, times: str | None = None) -> Iterator[np.ndarray]:
    """:func:`sample_times` with samples in gaps given times interpolated between the
    stored samples around the gap (as ``StreamData.filled_times``), a block at a time;
    for an aligned stream, the common-clock time of every index; with a model, its time."""
    m = time_model_of(stream, times)
    if m is not None:
        for a in range(start, stop, block):
            yield _model_block(stream, m, a, min(stop, a + block), local)
        return
    al = alignment_for(stream, times)
    if al is not None:
        for a in range(start, stop, block):
            yield model_times(al, np.arange(a, min(stop, a + block), dtype=float))
        return
    gaps = [(g0, g1) for g0, g1 in stream.gaps if g0 < stop and g1 > start]

    def at(i: int) -> float:
        t = stream.time_at(i)
        return float(stream.to_recorder_clock(t)) if local else t

    for a, t in zip(range(start, stop, block),
                    sample_times(stream, start, stop, local, block, times)):
        for g0, g1 in gaps:                 # inner gaps: stored samples on both sides
            lo, hi = max(g0, a), min(g1, a + len(t))
            if lo < hi:
                left, right = at(g0 - 1), at(g1)
                idx = np.arange(lo, hi)
                t[lo - a:hi - a] = left + (idx - (g0 - 1)) * (right - left) / (g1 - g0 + 1)
        yield t
