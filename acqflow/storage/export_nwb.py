"""Export stored streams to NWB (Neurodata Without Borders) with pynwb (imported lazily).

Where each stream goes:

* with ``metadata``, voltage signals (units V, mV, uV or nV: the stream's, or every channel's) ->
  ``/acquisition/<name>``, an ``ElectricalSeries`` on rows of the ``electrodes`` table (one
  row per channel, in an electrode group per stream, with the channel's name, location
  and position), data as stored with ``conversion`` to volts.
* other signals (any numeric dtype: analog, digital, time-frequency...) -> ``/acquisition/<name>``,
  a ``TimeSeries``; samples in gaps hold ``fill`` (NaN/0) and the gaps are listed, with
  the channel names, in the JSON ``description``.  Times: on a regular grid
  (:mod:`.timebase`: every chunk within the tolerance of one grid), ``rate`` = the
  stream's sample rate and ``starting_time`` = the time of the first exported sample;
  otherwise (a pause, a clock step, drift past the tolerance) ``timestamps``: each
  sample's stored time (samples in gaps: interpolated).  A stream with a stored time
  model takes its times from it: ``rate`` = the fitted rate when the model is one line,
  else each sample's model time as ``timestamps``.  Data and timestamps are
  written in ~1 MiB HDF5 chunks, a buffer at a time, so memory stays bounded.
* events (structured dtype) -> ``/events/<name>``, an ``EventsTable``: the stored time of
  each record in ``timestamp`` and one column per field (bytes fields as text).
* video -> ``/acquisition/<name>``, an ``ImageSeries`` with ``format='external'``: the
  stored frames go to ``<file stem>_<name>.mp4`` beside the NWB file (NWB's advice for
  video), with one timestamp per frame (the frame's time in the .mp4, from the same
  :func:`.export_video.frame_times`).  A stream stored as h264/hevc/ffv1 packets is
  remuxed there (:mod:`.export_remux`; FFV1 into ``.mkv``), not re-encoded.

``session_start_time`` is the earliest exported sample time (UTC), ``identifier`` the
recording's uuid; every time is on the recorder's clock (``StoredStream.local_times``).
``metadata`` (a dict or a YAML file; keys in :mod:`.nwb_meta`) adds the archive's
session, subject, device and electrode details.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable

import numpy as np

from acqflow.dataflow.paramcheck import one_of

from .export import gap_fill, output_file, stream_list
from .nwb_meta import VOLT_FACTORS, check_metadata, load_metadata
from .progress import progress_bar
from .stored import StoredStream
from .timebase import TIMES, filled_sample_times, time_model_of, timebase
from .videocodec import is_packet_codec

__all__ = ["to_nwb", "filled_times", "movie_path"]

_RESERVED = ("id", "timestamp", "duration")   # EventsTable's own columns


def _pynwb() -> ModuleType:
    try:
        import pynwb
    except ImportError:
        raise ImportError("NWB export needs pynwb: pip install 'acqflow[nwb]'") from None
    return pynwb


def filled_times(stream: StoredStream, start: int, stop: int, local: bool = True) -> np.ndarray:
    """Times of ``[start, stop)`` with gaps interpolated: see ``StoredStream.filled_times``."""
    return stream.filled_times(start, stop, local)


def _first_stored(stream: StoredStream, start: int, stop: int,
                  times: str | None = None) -> tuple[int, float] | None:
    """Index and recorder-clock time (the model's, with one) of the first stored sample
    in ``[start, stop)``."""
    model = time_model_of(stream, times)
    for s, _ in stream.chunks(start, stop) if stop > start else ():
        t = model.time_of(s) if model is not None else stream.time_at(s)
        return s, float(stream.to_recorder_clock(t))
    return None


def _description(stream: StoredStream, start: int, stop: int, **extra: Any) -> str:
    names = [c.get("name") for c in stream.channel_info or [] if isinstance(c, dict)]
    return json.dumps({"acqflow_stream": stream.name, "streamtype": stream.streamtype,
                       "start_index": start, "stop_index": stop, "channel_names": names,
                       "gaps": stream.gaps_in(start, stop) if stop > start else [], **extra})


def _signal_data(stream: StoredStream, start: int, stop: int, fill: Any, bar: Any) -> Any:
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


def _timestamps(stream: StoredStream, start: int, stop: int, t0: float,
                times: str | None = None) -> Any:
    """Each sample's stored time minus ``t0`` (gaps interpolated), as an hdmf chunk iterator."""
    from hdmf.data_utils import GenericDataChunkIterator
    n = stop - start
    rows = max(1, min(n, 1 << 17))

    class _Times(GenericDataChunkIterator):
        def _get_data(self, selection: tuple) -> np.ndarray:
            rows = selection[0]
            a, b = start + rows.start, start + rows.stop
            return next(filled_sample_times(stream, a, b, block=b - a, times=times)) - t0

        def _get_maxshape(self) -> tuple:
            return (n,)

        def _get_dtype(self) -> np.dtype:
            return np.dtype(np.float64)

    return _Times(buffer_shape=(rows,), chunk_shape=(rows,))


def _events_table(stream: StoredStream, start: int, stop: int, t0: float) -> Any:
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
        values: Any = records[field]
        if values.dtype.kind == "S":
            values = [v.decode("utf-8", "replace") for v in values]
        name = f"{field}_" if field in _RESERVED else field
        columns.append(VectorData(name=name, data=values, description=f"event field {field!r}"))
    return EventsTable(name=stream.name, columns=columns,
                       description=_description(stream, start, stop))


def channel_names(stream: StoredStream) -> list[str]:
    """Each channel's name (``channel_info``), ``ch<k>`` where it has none."""
    info = stream.channel_info or []
    n = stream.shape[1] if len(stream.shape) == 2 and not stream.dtype.names else 0
    return [str(info[c].get("name", f"ch{c}")) if c < len(info) and isinstance(info[c], dict)
            else f"ch{c}" for c in range(n)]


def volt_factor(stream: StoredStream, meta: dict[str, Any]) -> float | None:
    """Factor from the stream's values to volts when it goes out as an ElectricalSeries (a
    voltage signal exported with metadata, or ``streams.<name>.electrical``), else None."""
    forced = meta["streams"].get(stream.name, {}).get("electrical")
    signal = not stream.dtype.names and len(stream.shape) == 2 and stream.dtype.kind in "fiu" \
        and stream.streamtype in ("analogsignal", "digitalsignal")
    if forced and not signal:
        raise ValueError(f"NWB metadata: streams.{stream.name}.electrical: {stream.streamtype} "
                         f"stream of {stream.dtype} shape {stream.shape} is not a (time, channel) signal")
    if forced is False or (forced is None and not meta.get("archive")) or not signal:
        return None
    units = {c.get("units") for c in stream.channel_info or [] if isinstance(c, dict)} - {None}
    unit = stream.units if stream.units else (units.pop() if len(units) == 1 else None)
    if forced and unit not in VOLT_FACTORS:
        raise ValueError(f"NWB metadata: streams.{stream.name}.electrical: the stream's units "
                         f"{unit!r} are not a voltage ({', '.join(VOLT_FACTORS)})")
    return VOLT_FACTORS.get(unit) if unit else None


def _electrodes(nwb: Any, streams: list[StoredStream], meta: dict[str, Any]) -> dict[str, Any]:
    """The electrodes table (one row per channel of each voltage stream) and, per stream,
    its ``DynamicTableRegion``."""
    if not streams:
        return {}
    dev = dict(meta.get("device", {}))
    name = dev.pop("name", "acqflow source")
    model = {k: dev.pop(k) for k in ("manufacturer", "model_number", "model_name") if k in dev}
    if model:                         # NWB 2.9: maker and model live in a DeviceModel
        model = {"model": nwb.create_device_model(
            name=model.pop("model_name", f"{name} model"), **{
                "manufacturer": "unknown", "description": f"model of device {name}", **model})}
    device = nwb.create_device(name=name, **{
        "description": "the acquisition device the electrodes were read from", **dev, **model})
    group_meta = meta.get("electrode_group", {})
    rows: list[dict[str, Any]] = []
    spans = {}
    for s in streams:
        group = nwb.create_electrode_group(
            name=s.name, device=device, location=group_meta.get("location", "unknown"),
            description=group_meta.get("description", f"electrodes of acqflow stream {s.name!r}"))
        first = len(rows)
        for c, name in enumerate(channel_names(s)):
            info = (s.channel_info or [{}] * (c + 1))[c] if c < len(s.channel_info or []) else {}
            info = info if isinstance(info, dict) else {}
            row = {k: info[k] for k in ("location", "x", "y", "z") if k in info}
            row.update(meta["electrodes"].get(name, {}))
            row.setdefault("location", group.location)
            rows.append({**row, "group": group, "channel_name": name, "stream": s.name})
        spans[s.name] = list(range(first, len(rows)))
    nwb.add_electrode_column("channel_name", "name of the channel in its acqflow stream")
    nwb.add_electrode_column("stream", "acqflow stream the channel belongs to")
    optional = ("x", "y", "z", "imp", "filtering", "rel_x", "rel_y", "rel_z", "reference")
    keep = [k for k in optional if all(k in r for r in rows)]      # a column is all or nothing
    for r in rows:
        nwb.add_electrode(**{k: v for k, v in r.items() if k not in optional or k in keep})
    return {name: nwb.create_electrode_table_region(region=idx, description=f"channels of {name}")
            for name, idx in spans.items()}


def _write_stream(pynwb: Any, nwb: Any, path: Path, stream: StoredStream, start: int, stop: int,
                  first: tuple[int, float] | None, fill: Any, t0: float, bar: Any,
                  progress: bool | None, meta: dict[str, Any], region: Any = None,
                  tolerance: float | None = None, movie_file: Path | None = None,
                  times: str | None = None) -> None:
    if stream.dtype.names:
        nwb.add_events_table(_events_table(stream, start, stop, t0))
        bar.update(stop - start)
    elif stream.streamtype == "video":
        from .export_remux import remux_frames
        from .export_video import frame_times, to_video
        movie = movie_path(path, stream)
        if is_packet_codec(stream.codec):      # its packets copied, not re-encoded
            frame_t = remux_frames(stream, movie_file or movie, start, stop, tolerance, times,
                                   progress)[1]
        else:
            to_video(stream, movie_file or movie, start, stop, progress=progress,
                     tolerance=tolerance, times=times)
            frame_t = frame_times(stream, start, stop, tolerance, times)[1]
        nwb.add_acquisition(pynwb.image.ImageSeries(
            name=stream.name, external_file=[movie.name], format="external", starting_frame=[0],
            timestamps=frame_t - t0, unit="n/a",
            description=_description(stream, start, stop, file=movie.name)))
        bar.update(stop - start)
    else:
        value = gap_fill(stream.dtype, fill)
        tb = timebase(stream, start, stop, tolerance, times=times)
        if tb.regular:      # the time of sample ``start`` on the grid of the first stored one
            when = dict(rate=float(tb.segments[0].rate) if tb.segments else
                        float(stream.sample_rate),
                        starting_time=0.0 if first is None or tb.starting_time is None
                        else tb.starting_time - t0)
        else:
            when = dict(timestamps=_timestamps(stream, start, stop, t0, times))
        extra = meta["streams"].get(stream.name, {})
        common = dict(name=stream.name, data=_signal_data(stream, start, stop, value, bar),
                      **when,
                      description=extra.get("description") or _description(
                          stream, start, stop, fill=repr(value)),
                      **({"comments": extra["comments"]} if "comments" in extra else {}))
        if region is not None:
            nwb.add_acquisition(pynwb.ecephys.ElectricalSeries(
                electrodes=region, conversion=volt_factor(stream, meta), **common))
        else:
            nwb.add_acquisition(pynwb.TimeSeries(unit=stream.units or "n/a", **common))


def _nwbfile(pynwb: Any, rec: Any, meta: dict[str, Any], t0: float,
             session_description: str | None) -> Any:
    """The NWBFile with the session and subject metadata (defaults from the recording)."""
    session = {k: v for k, v in meta.items() if k not in
               ("subject", "device", "electrode_group", "electrodes", "streams", "archive")}
    session["session_description"] = session_description or session.get(
        "session_description") or f"acqflow recording {rec.url}"
    session.setdefault("identifier", str(rec.uuid))
    session["session_start_time"] = session.get("session_start_time") or \
        dt.datetime.fromtimestamp(t0, dt.timezone.utc)
    if "subject" in meta:
        session["subject"] = pynwb.file.Subject(**meta["subject"])
    return pynwb.NWBFile(source_script="acqflow rec export", source_script_file_name="acqflow",
                         **session)


def to_nwb(streams: StoredStream | Iterable[StoredStream], path: str | os.PathLike,
           start: int | None = None, stop: int | None = None, fill: Any = None,
           session_description: str | None = None, progress: bool | None = None,
           metadata: dict[str, Any] | str | os.PathLike | None = None,
           tolerance: float | None = None, overwrite: bool = False,
           times: str | None = None) -> Path:
    """Write stored streams to an NWB file (layout: module docstring).

    ``start``/``stop`` (absolute indexes) apply to a single stream; with several, each
    is written whole.  ``fill``: the value of samples in gaps (default NaN/0).
    ``metadata``: a dict or a YAML file of session, subject, device and electrode
    details (keys: :mod:`acqflow.storage.nwb_meta`); checked before anything is written.
    ``tolerance``: how far (s) stamps may stray from a regular grid before the stream is
    written with ``timestamps`` (default: :func:`.timebase.default_tolerance`).
    ``times``: from the stored time model (default, when there is one), ``'model'`` or
    the raw ``'stamps'`` (:mod:`.timebase`).
    """
    if times is not None:
        one_of(*TIMES)("times", times)
    pynwb = _pynwb()
    path = Path(path)
    if path.suffix.lower() != ".nwb":
        raise ValueError(f"an NWB file name ends in .nwb, got {path.name!r}")
    streams = stream_list(streams, start, stop, "to_nwb")
    meta = check_metadata(load_metadata(metadata), {s.name: channel_names(s) for s in streams})
    meta["archive"] = metadata is not None
    spans = [s.bounds(start, stop) for s in streams]
    firsts = [_first_stored(s, a, b, times) for s, (a, b) in zip(streams, spans)]
    for s, (a, b), first in zip(streams, spans, firsts):
        if b > a and first is None:
            raise ValueError(f"stream {s.name!r} has no stored sample in [{a}:{b}] (all gap)")
    t0 = min((f[1] for f in firsts if f is not None), default=0.0)
    if "session_start_time" in meta:
        begin = meta["session_start_time"]
        if begin.timestamp() > t0 + 1e-3:
            raise ValueError(f"NWB metadata: session_start_time: {begin.isoformat()} is after the "
                             f"first exported sample "
                             f"({dt.datetime.fromtimestamp(t0, dt.timezone.utc).isoformat()})")
        t0 = begin.timestamp()
    electrical = [s for s in streams if volt_factor(s, meta) is not None]
    nwb = _nwbfile(pynwb, streams[0].recording, meta, t0, session_description)
    regions = _electrodes(nwb, electrical, meta)
    bar = progress_bar(sum(b - a for a, b in spans), f"export {path.name}", "sample", progress)
    try:
        with ExitStack() as files:     # every file written beside, renamed at the end
            tmp = files.enter_context(output_file(path, overwrite))     # renamed last
            movies = {s.name: files.enter_context(output_file(movie_path(path, s), overwrite))
                      for s in streams if s.streamtype == "video" and not s.dtype.names}
            for s, (a, b), first in zip(streams, spans, firsts):
                _write_stream(pynwb, nwb, path, s, a, b, first, fill, t0, bar, progress, meta,
                              regions.get(s.name), tolerance, movies.get(s.name), times)
            with pynwb.NWBHDF5IO(os.fspath(tmp), "w") as io:
                io.write(nwb)
    finally:
        bar.close()
    return path


def movie_path(path: Path, stream: StoredStream) -> Path:
    """The video file beside the NWB file that holds a video stream's frames (.mp4;
    .mkv for FFV1 packets, which MP4 does not carry)."""
    ffv1 = is_packet_codec(stream.codec) and stream.codec["name"] == "ffv1"
    return path.with_name(f"{path.stem}_{stream.name}{'.mkv' if ffv1 else '.mp4'}")
