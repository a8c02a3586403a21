"""Export stored streams to NWB (Neurodata Without Borders) with pynwb (imported lazily).

Where each stream goes:

* signals (any numeric dtype: analog, digital, time-frequency...) -> ``/acquisition/<name>``,
  a ``TimeSeries`` with ``rate`` = the stream's sample rate and ``starting_time`` = the time
  of its first exported sample; samples in gaps hold ``fill`` (NaN/0) and the gaps are
  listed, with the channel names, in the JSON ``description``.  Data are written in
  ~1 MiB HDF5 chunks, a buffer at a time, so memory stays bounded.
* events (structured dtype) -> ``/events/<name>``, an ``EventsTable``: the stored time of
  each record in ``timestamp`` and one column per field (bytes fields as text).
* video -> ``/acquisition/<name>``, an ``ImageSeries`` with ``format='external'``: the
  frames go to ``<file stem>_<name>.mp4`` beside the NWB file (NWB's advice for video),
  with one timestamp per frame.

``session_start_time`` is the earliest exported sample time (UTC), ``identifier`` the
recording's uuid; every time is on the recorder's clock (``StoredStream.local_times``).
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .export import gap_fill, stream_list
from .progress import progress_bar
from .stored import StoredStream

__all__ = ["to_nwb", "filled_times"]

_RESERVED = ("id", "timestamp", "duration")   # EventsTable's own columns


def _pynwb():
    try:
        import pynwb
    except ImportError:
        raise ImportError("NWB export needs pynwb: pip install 'acqflow[nwb]'") from None
    return pynwb


def filled_times(stream: StoredStream, start: int, stop: int, local: bool = True) -> np.ndarray:
    """Time of every index in ``[start, stop)`` (recorder's clock if ``local``, else as
    stored); gaps get times interpolated between their neighbours (extrapolated at the
    sample rate at the ends)."""
    t = np.asarray(stream.local_times(start, stop) if local else stream.times(start, stop), float)
    known = ~np.isnan(t)
    if known.all() or not known.any():
        return t
    idx = np.arange(start, stop)
    ki, kt = idx[known], t[known]
    fill = np.interp(idx, ki, kt)
    period = 0.0 if stream.streamtype == "event" else 1.0 / stream.sample_rate
    fill = np.where(idx < ki[0], kt[0] - (ki[0] - idx) * period, fill)
    fill = np.where(idx > ki[-1], kt[-1] + (idx - ki[-1]) * period, fill)
    return np.where(known, t, fill)


def _first_stored(stream: StoredStream, start: int, stop: int) -> tuple[int, float] | None:
    """Index and recorder-clock time of the first stored sample in ``[start, stop)``."""
    for s, _ in stream.chunks(start, stop) if stop > start else ():
        return s, float(stream.to_recorder_clock(stream.time_at(s)))
    return None


def _description(stream: StoredStream, start: int, stop: int, **extra: Any) -> str:
    names = [c.get("name") for c in stream.channel_info or [] if isinstance(c, dict)]
    return json.dumps({"acqflow_stream": stream.name, "streamtype": stream.streamtype,
                       "start_index": start, "stop_index": stop, "channel_names": names,
                       "gaps": stream.gaps_in(start, stop) if stop > start else [], **extra})


def _signal_data(stream: StoredStream, start: int, stop: int, fill: Any, bar: Any):
    """The samples as an hdmf chunk iterator: whole rows per buffer, read with gaps filled."""
    from hdmf.data_utils import GenericDataChunkIterator
    n = stop - start
    if n == 0:
        return np.zeros((0,) + stream.shape[1:], stream.dtype)
    rest = tuple(stream.shape[1:])
    row_bytes = max(1, stream.dtype.itemsize * math.prod(rest))
    chunk_rows = max(1, min(n, (1 << 20) // row_bytes))
    buffer_rows = chunk_rows * max(1, min(64, n // chunk_rows))

    class _Rows(GenericDataChunkIterator):
        def _get_data(self, selection: tuple) -> np.ndarray:
            rows = selection[0]
            data = stream.read(start + rows.start, start + rows.stop, fill=fill)
            bar.update(rows.stop - rows.start)
            return data[(slice(None),) + tuple(selection[1:])]

        def _get_maxshape(self) -> tuple:
            return (n,) + rest

        def _get_dtype(self) -> np.dtype:
            return stream.dtype

    return _Rows(buffer_shape=(buffer_rows,) + rest, chunk_shape=(chunk_rows,) + rest)


def _events_table(stream: StoredStream, start: int, stop: int, t0: float):
    from pynwb.event import EventsTable, TimestampVectorData
    from hdmf.common import VectorData
    pieces = list(stream.chunks(start, stop)) if stop > start else []
    records = np.concatenate([d for _, d in pieces]) if pieces else np.zeros(0, stream.dtype)
    rows = np.concatenate([np.arange(a, a + len(d)) for a, d in pieces]) if pieces else \
        np.zeros(0, np.int64)
    times = np.asarray(stream.local_times(start, stop), float)[rows - start] - t0
    columns = [TimestampVectorData(name="timestamp", data=times,
                                   description="time of the event record, s from session start")]
    for field in records.dtype.names or ():
        values = records[field]
        if values.dtype.kind == "S":
            values = [v.decode("utf-8", "replace") for v in values]
        name = f"{field}_" if field in _RESERVED else field
        columns.append(VectorData(name=name, data=values, description=f"event field {field!r}"))
    return EventsTable(name=stream.name, columns=columns,
                       description=_description(stream, start, stop))


def _write_stream(pynwb: Any, nwb: Any, path: Path, stream: StoredStream, start: int, stop: int,
                  first: tuple[int, float] | None, fill: Any, t0: float, bar: Any,
                  progress: bool | None) -> None:
    if stream.dtype.names:
        nwb.add_events_table(_events_table(stream, start, stop, t0))
        bar.update(stop - start)
    elif stream.streamtype == "video":
        from .export_video import to_video
        movie = path.with_name(f"{path.stem}_{stream.name}.mp4")
        to_video(stream, movie, start, stop, progress=progress)
        nwb.add_acquisition(pynwb.image.ImageSeries(
            name=stream.name, external_file=[movie.name], format="external", starting_frame=[0],
            timestamps=filled_times(stream, start, stop) - t0, unit="n/a",
            description=_description(stream, start, stop, file=movie.name)))
        bar.update(stop - start)
    else:
        value = gap_fill(stream.dtype, fill)
        # the time of sample ``start``, from the first stored one at or after it
        starting = 0.0 if first is None else first[1] - (first[0] - start) / stream.sample_rate - t0
        nwb.add_acquisition(pynwb.TimeSeries(
            name=stream.name, data=_signal_data(stream, start, stop, value, bar),
            unit=stream.units or "n/a", rate=float(stream.sample_rate), starting_time=starting,
            description=_description(stream, start, stop, fill=repr(value))))


def to_nwb(streams: StoredStream | Iterable[StoredStream], path: str | os.PathLike,
           start: int | None = None, stop: int | None = None, fill: Any = None,
           session_description: str | None = None, progress: bool | None = None) -> Path:
    """Write stored streams to an NWB file (layout: module docstring).

    ``start``/``stop`` (absolute indexes) apply to a single stream; with several, each
    is written whole.  ``fill``: the value of samples in gaps (default NaN/0).
    """
    pynwb = _pynwb()
    path = Path(path)
    if path.suffix.lower() != ".nwb":
        raise ValueError(f"an NWB file name ends in .nwb, got {path.name!r}")
    streams = stream_list(streams, start, stop, "to_nwb")
    spans = [s._bounds(start, stop) for s in streams]
    firsts = [_first_stored(s, a, b) for s, (a, b) in zip(streams, spans)]
    for s, (a, b), first in zip(streams, spans, firsts):
        if b > a and first is None:
            raise ValueError(f"stream {s.name!r} has no stored sample in [{a}:{b}] (all gap)")
    t0 = min((f[1] for f in firsts if f is not None), default=0.0)
    rec = streams[0].recording
    nwb = pynwb.NWBFile(
        session_description=session_description or f"acqflow recording {rec.url}",
        identifier=str(rec.uuid),
        session_start_time=dt.datetime.fromtimestamp(t0, dt.timezone.utc),
        source_script="acqflow rec export", source_script_file_name="acqflow")
    bar = progress_bar(sum(b - a for a, b in spans), f"export {path.name}", "sample", progress)
    try:
        for s, (a, b), first in zip(streams, spans, firsts):
            _write_stream(pynwb, nwb, path, s, a, b, first, fill, t0, bar, progress)
        with pynwb.NWBHDF5IO(os.fspath(path), "w") as io:
            io.write(nwb)
    finally:
        bar.close()
    return path
