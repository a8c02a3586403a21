"""StreamData: a stored stream's extent, index arithmetic, times and reads (StoredStream's base).

Kept apart from :mod:`.stored` so the modules StoredStream itself builds on
(cursor, dask_view) can type against it without importing StoredStream, and it
reaches its recording only through :class:`RecordingLike`: storage imports point
one way (reader -> merge, prefetch, stored -> cursor, dask_view -> streamdata).

Indexing mirrors acqflow's RingBuffer: absolute indexes, ``None`` bounds mean the
first / one-past-last stored sample, negative indexes count from the end, and
ranges outside ``[first_index, stop_index]`` raise IndexError.  Samples never
recorded (gaps) raise GapError unless a fill value is given.

Sample times: a chunk's timestamp is the time of its last sample; earlier
samples of the chunk are spaced by ``1/sample_rate`` (event chunks share their
timestamp), and times are made non-decreasing across chunks: the raw times.
With ``model=True``, ``times``/``index_at``/``time_slice`` read the stream's fitted
:attr:`StreamData.time_model` instead (see :mod:`.streamtime`).
"""
from __future__ import annotations

import math
from typing import Any, Iterator, Protocol

import numpy as np

from acqflow.dataflow.streams.spec import default_fill

from .errors import GapError, StorageError
from .index import StreamTable
from .manifest import stream_dtype, stream_params, stream_shape
from .streamtime import StreamTimeModel, fit_stamps, model_from_history

__all__ = ["StreamData", "RecordingLike", "default_fill"]


class RecordingLike(Protocol):
    """What a stored stream uses of its recording (``Recording``'s public API)."""

    url: str
    manifest: dict[str, Any]

    @property
    def uuid(self) -> str: ...
    @property
    def committed(self) -> bool: ...
    def refresh(self) -> int: ...
    def stream_table(self, sid: int) -> StreamTable: ...
    def read_records(self, stream: "StreamData", k0: int, k1: int) -> Iterator[np.ndarray]: ...
    def delete_stream(self, name: str) -> None: ...
    def __getitem__(self, name: str) -> "StreamData": ...
    def record_payloads(self, stream: "StreamData", k0: int, k1: int
                        ) -> Iterator[tuple[int, memoryview]]: ...
    def decoder(self, stream: "StreamData") -> Any: ...


    @classmethod
    def open(cls, url: str, *, verify: bool = False, cache: Any = None,
             storage_options: dict[str, Any] | None = None) -> "RecordingLike": ...


class StreamData:
    """A stream of a recording: length, time range, slicing, gaps, times, delete."""

    def __init__(self, recording: RecordingLike, entry: dict[str, Any]):
        self.recording = recording
        self.entry = entry
        self.name: str = entry["name"]
        self.sid: int = entry["id"]
        self.streamtype: str = entry["streamtype"]
        self.dtype: np.dtype = stream_dtype(entry)
        self.shape: tuple[int, ...] = stream_shape(entry)
        self.sample_rate: float = float(entry["sample_rate"])
        self.units = entry.get("units")
        self.channel_info = entry.get("channel_info")
        self.codec: dict | None = entry.get("codec")
        self.n_readers = 0
        self._dt = 0.0 if self.streamtype == "event" else 1.0 / self.sample_rate
        self._model: tuple[int, StreamTimeModel | None] | None = None

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.name!r} {self.streamtype} {self.dtype} "
                f"shape={self.shape} [{self.first_index}:{self.stop_index}]>")

    @property
    def params(self) -> dict[str, Any]:
        """acqflow stream params equivalent to this stream (for a Player output)."""
        return stream_params(self.entry)

    @property
    def _table(self) -> StreamTable:
        return self.recording.stream_table(self.sid)

    # -- extent ------------------------------------------------------------------
    @property
    def first_index(self) -> int:
        """Absolute index of the first stored sample (0 when empty)."""
        a = self._table.arrays
        return int(a["start"][0]) if len(a["start"]) else 0

    @property
    def stop_index(self) -> int:
        """Absolute index one past the last stored sample."""
        a = self._table.arrays
        return int(a["stop"][-1]) if len(a["stop"]) else 0

    def __len__(self) -> int:
        return self.stop_index - self.first_index

    @property
    def n_samples(self) -> int:
        """Samples actually stored (``len`` minus gaps)."""
        return int(self._table.arrays["n"].sum())

    @property
    def expected_stop(self) -> int | None:
        """Stop index the writer was given (from the manifest of a closed recording);
        larger than ``stop_index`` when trailing chunks were lost."""
        stats = self.recording.manifest.get("stats", {}).get("streams", {}).get(self.name)
        return None if not stats else stats.get("expected_stop")

    @property
    def gaps(self) -> list[tuple[int, int]]:
        """``(start, stop)`` of every run of never-recorded samples inside the stream."""
        a = self._table.arrays
        if len(a["start"]) < 2:
            return []
        holes = np.nonzero(a["start"][1:] > a["stop"][:-1])[0]
        return [(int(a["stop"][k]), int(a["start"][k + 1])) for k in holes]

    @property
    def time_range(self) -> tuple[float, float] | None:
        """Time of the first and of the last stored sample (None when empty)."""
        a = self._table.arrays
        if not len(a["t"]):
            return None
        return self.time_at(int(a["start"][0])), float(a["t"][-1])

    # -- index arithmetic --------------------------------------------------------
    def bounds(self, start: int | None = None, stop: int | None = None) -> tuple[int, int]:
        """``[start, stop)`` resolved like a slice (None: the stream's ends, negative:
        from the end); IndexError outside ``[first_index, stop_index]``."""
        first, head = self.first_index, self.stop_index
        start = first if start is None else int(start)
        stop = head if stop is None else int(stop)
        if start < 0:
            start += head
        if stop < 0:
            stop += head
        if start < first or stop > head or start > stop:
            raise IndexError(f"samples [{start}:{stop}] are outside stream {self.name!r} "
                             f"[{first}:{head}]")
        return start, stop


    def _span(self, start: int, stop: int) -> tuple[int, int]:
        a = self._table.arrays
        return (int(np.searchsorted(a["stop"], start, "right")),
                int(np.searchsorted(a["start"], stop, "left")))

    def record_table(self, start: int | None = None, stop: int | None = None
                     ) -> dict[str, np.ndarray]:
        """Index columns (``start``, ``stop``, ``n``, ``t``, ``block``, ...) of the stored
        records overlapping ``[start, stop)`` (None: the stream's ends; no bounds check,
        so a range past the end gives empty columns).  Read-only views: don't modify."""
        start = self.first_index if start is None else int(start)
        stop = self.stop_index if stop is None else int(stop)
        k0, k1 = self._span(start, stop)
        return {c: col[k0:max(k0, k1)] for c, col in self._table.arrays.items()}

    def gaps_in(self, start: int | None = None, stop: int | None = None) -> list[tuple[int, int]]:
        """Gaps intersecting ``[start, stop)``, clipped to it."""
        start, stop = self.bounds(start, stop)
        return [(max(g0, start), min(g1, stop)) for g0, g1 in self.gaps
                if max(g0, start) < min(g1, stop)]

    # -- data --------------------------------------------------------------------
    def __getitem__(self, key: int | slice) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            i = int(key) + self.stop_index if key < 0 else int(key)
            return self.read(i, i + 1)[0]
        if not isinstance(key, slice):
            raise TypeError(f"stored stream indices must be ints or slices, not "
                            f"{type(key).__name__}")
        if key.step is not None and key.step < 1:
            raise ValueError(f"slice step must be positive, got {key.step}")
        out = self.read(key.start, key.stop)
        return out if key.step in (None, 1) else out[::key.step]

    def read(self, start: int | None = None, stop: int | None = None,
             fill: Any = None) -> np.ndarray:
        """Samples ``[start, stop)`` as a new array.

        Gaps raise GapError, unless ``fill`` is given (a value, or 'auto' for
        NaN/0); damaged blocks raise DamagedBlockError (never wrong data).
        """
        start, stop = self.bounds(start, stop)
        gaps = self.gaps_in(start, stop)
        if gaps and fill is None:
            raise GapError(f"stream {self.name!r} [{start}:{stop}] has {len(gaps)} gap(s), "
                           f"first {gaps[0]}; pass fill= to read them filled", gaps)
        out = np.empty((stop - start,) + self.shape[1:], self.dtype)
        if fill is not None:
            value = default_fill(self.dtype) if fill == "auto" else fill
            for g0, g1 in gaps:
                out[g0 - start:g1 - start] = value
        for s, data in self.chunks(start, stop):
            out[s - start:s - start + len(data)] = data
        return out

    def chunks(self, start: int | None = None, stop: int | None = None
               ) -> Iterator[tuple[int, np.ndarray]]:
        """Stored pieces ``(first index, data)`` of ``[start, stop)`` in order (gaps skipped)."""
        start, stop = self.bounds(start, stop)
        k0, k1 = self._span(start, stop)
        a = self._table.arrays
        for k, data in enumerate(self.recording.read_records(self, k0, k1), k0):
            s, e = int(a["start"][k]), int(a["stop"][k])
            lo, hi = max(s, start), min(e, stop)
            yield lo, data[lo - s:hi - s]

    def record_bounds(self, k: int) -> tuple[int, int, float]:
        """``(start, stop, timestamp)`` of stored record ``k`` (0-based)."""
        a = self._table.arrays
        return int(a["start"][k]), int(a["stop"][k]), float(a["t"][k])

    @property
    def n_records(self) -> int:
        """Number of stored chunks."""
        return len(self._table)

    # -- time --------------------------------------------------------------------
    def _times(self, k: int, idx: np.ndarray) -> np.ndarray:
        a = self._table.arrays
        t = a["t"][k] - (a["stop"][k] - 1 - idx) * self._dt
        return np.maximum(t, a["t"][k - 1]) if k > 0 else t

    def time_at(self, index: int) -> float:
        """Time of stored sample ``index``."""
        k0, k1 = self._span(index, index + 1)
        if k1 <= k0:
            raise IndexError(f"sample {index} of {self.name!r} is not stored")
        return float(self._times(k0, np.array([index]))[0])

    def times(self, start: int | None = None, stop: int | None = None,
              model: bool = False) -> np.ndarray:
        """Time of every sample in ``[start, stop)``: from the raw stamps (NaN in gaps), or
        with ``model=True`` on the fitted :attr:`time_model` (every index, gaps included)."""
        start, stop = self.bounds(start, stop)
        if model:
            return np.asarray(self._fitted().time_of(np.arange(start, stop)), dtype=np.float64)
        out = np.full(stop - start, np.nan)
        k0, k1 = self._span(start, stop)
        a = self._table.arrays
        for k in range(k0, k1):
            lo, hi = max(int(a["start"][k]), start), min(int(a["stop"][k]), stop)
            out[lo - start:hi - start] = self._times(k, np.arange(lo, hi))
        return out

    def index_at(self, t: float, model: bool = False) -> int:
        """First stored index whose time is >= ``t`` (``stop_index`` if none), from the raw
        stamps or (``model=True``) on the fitted :attr:`time_model`, clipped to the stream."""
        if model:
            pos = self._fitted().position(float(t))
            i = math.ceil(pos - 1e-6) if math.isfinite(pos) else self.stop_index
            return min(max(i, self.first_index), self.stop_index)
        a = self._table.arrays
        k = int(np.searchsorted(a["t"], t, "left"))
        if k >= len(a["t"]):
            return self.stop_index
        s, e = int(a["start"][k]), int(a["stop"][k])
        if self._dt == 0:
            return s
        x = e - 1 - (float(a["t"][k]) - t) / self._dt
        i = min(e - 1, max(s, math.ceil(x) if math.isfinite(x) else s))
        while i > s and self._times(k, np.array([i - 1]))[0] >= t:
            i -= 1
        while i < e - 1 and self._times(k, np.array([i]))[0] < t:
            i += 1
        return i

    # -- clocks (multi-host) -------------------------------------------------------
    @property
    def clock_sync(self) -> dict[str, Any]:
        """The manifest's ``clock_sync`` entry: source clock ``id``, ``recorder_id``, estimated
        ``offset`` (source - recorder, s), ``uncertainty``, ``drift``, ``history``."""
        return dict(self.entry.get("clock_sync") or {})

    @property
    def clock_offset(self) -> tuple[float, float] | None:
        """``(offset, uncertainty)`` of the source's clock to the recorder's, in s
        ((0, 0) when the recorder shared the source's clock; None if never estimated)."""
        info = self.clock_sync
        if info.get("id") is None or info.get("id") == info.get("recorder_id"):
            return 0.0, 0.0
        if info.get("offset") is None:
            return None
        return float(info["offset"]), float(info["uncertainty"])

    def to_recorder_clock(self, t: Any) -> Any:
        """Stored timestamps (the source's clock) converted to the recorder's clock,
        with the offsets estimated while recording (interpolated over their history,
        else extrapolated with the drift).  Streams of several hosts recorded by one
        recorder are on one time base after this."""
        info = self.clock_sync
        if info.get("id") is None or info.get("id") == info.get("recorder_id"):
            return t
        if info.get("offset") is None:
            raise StorageError(f"stream {self.name!r}: the offset of its source clock "
                               f"{info.get('id')!r} to the recorder's ({info.get('recorder_id')!r}) "
                               "was never estimated (no Manager clock sync while recording)")
        ts = np.asarray(t, float)
        tl = ts - float(info["offset"])
        off = float(info["offset"]) + float(info.get("drift") or 0.0) * (tl - float(info["t_ref"]))
        hist = np.asarray(info.get("history") or [], float).reshape(-1, 3)
        if len(hist) >= 2:
            inside = (tl >= hist[0, 0]) & (tl <= hist[-1, 0])
            off = np.where(inside, np.interp(tl, hist[:, 0], hist[:, 1]), off)
        out = ts - off
        return float(out) if np.ndim(out) == 0 else out

    def local_times(self, start: int | None = None, stop: int | None = None) -> np.ndarray:
        """:meth:`times` converted to the recorder's clock (see :meth:`to_recorder_clock`)."""
        return self.to_recorder_clock(self.times(start, stop))

    def time_to_indexes(self, t0: float, t1: float, model: bool = False) -> tuple[int, int]:
        """Index range of the samples with ``t0 <= time < t1`` (raw or model times)."""
        i0, i1 = self.index_at(t0, model), self.index_at(t1, model)
        return i0, max(i0, i1)

    def time_slice(self, t0: float, t1: float, fill: Any = None, model: bool = False) -> np.ndarray:
        """Samples with ``t0 <= time < t1`` (raw or ``model`` times; gaps as in :meth:`read`)."""
        return self.read(*self.time_to_indexes(t0, t1, model), fill=fill)

    # -- the fitted time model ------------------------------------------------------
    @property
    def time_model(self) -> StreamTimeModel | None:
        """``time(index)`` fitted to the stamps (on the stream's clock, as the raw times):
        the Recorder's live fit from the manifest, else fitted offline from the chunk stamps;
        None for event streams and empty ones."""
        n = self.n_records
        if self._model is None or self._model[0] != n:
            self._model = (n, self._build_model())
        return self._model[1]

    def _build_model(self) -> StreamTimeModel | None:
        a = self._table.arrays
        if self._dt == 0 or not len(a["t"]):
            return None
        stored = self.entry.get("time_model")
        hist = stored.get("history") if isinstance(stored, dict) else None
        if hist:
            def chunk_start(i: int) -> int:
                k = min(int(np.searchsorted(a["stop"], i, "right")), len(a["start"]) - 1)
                return int(a["start"][k]) if a["start"][k] <= i else i
            got = model_from_history(hist, self.sample_rate, self.first_index, self.stop_index,
                                     chunk_start)
            if got.segments:
                return got
        return fit_stamps(a["start"], a["stop"], a["t"], self.sample_rate)

    def time_model_summary(self) -> dict[str, Any] | None:
        """The time model in brief (rate, drift_ppm, jitter, segments, source and a 'clock:'
        ``line`` for ``acqflow rec info``); None without one or when it cannot be read."""
        try:
            m = self.time_model
        except Exception:             # a damaged index: rec info still shows the rest
            return None
        return None if m is None or not m.segments else m.summary()

    def _fitted(self) -> StreamTimeModel:
        m = self.time_model
        if m is None or not m.segments:
            raise StorageError(f"stream {self.name!r} has no time model ("
                               f"{'an event stream' if self._dt == 0 else 'no stamps'})")
        return m

    # -- delete, times with gaps filled -------------------------------------------
    def delete(self) -> None:
        """Hide this stream (manifest tombstone); refused while the recording is open."""
        self.recording.delete_stream(self.name)

    def filled_times(self, start: int, stop: int, local: bool = True) -> np.ndarray:
        """Time of every index in ``[start, stop)`` (recorder's clock if ``local``, else as
        stored); gaps get times interpolated between their neighbours (extrapolated at the
        sample rate at the ends)."""
        t = np.asarray(self.local_times(start, stop) if local else self.times(start, stop), float)
        known = ~np.isnan(t)
        if known.all() or not known.any():
            return t
        idx = np.arange(start, stop)
        ki, kt = idx[known], t[known]
        fill = np.interp(idx, ki, kt)
        fill = np.where(idx < ki[0], kt[0] - (ki[0] - idx) * self._dt, fill)
        fill = np.where(idx > ki[-1], kt[-1] + (idx - ki[-1]) * self._dt, fill)
        return np.where(known, t, fill)
