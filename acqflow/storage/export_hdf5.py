"""Export stored streams to HDF5 with h5py (imported lazily).

Layout: one group per stream, ``/<name>``, holding

* ``data``: samples ``[start, stop)`` (structured dtypes become compound types;
  samples in gaps hold ``fill``, NaN/0 by default),
* ``gaps``: ``(k, 2)`` int64 absolute ``[start, stop)`` of the never-recorded runs,
* ``chunks``: ``(k, 3)`` float64 stored chunks ``start, stop, timestamp`` (the time of
  each chunk's last sample), from which every sample time can be recomputed,
* ``segments``: ``(k, 3)`` float64 ``start, stop, t0`` of the runs of samples on one
  regular grid (:mod:`.timebase`; sample ``i`` of a run at ``t0 + (i - start) / rate``),
  and ``segment_rates``, each run's ``rate`` (the stream's sample rate, or the fitted rate
  of a time-model segment),
* ``times``: float64, the stored time of every sample of ``data`` (NaN in gaps), written
  only when the samples are not on one regular grid (attribute ``regular`` false: a
  pause, a clock step, drift past the tolerance); when ``regular`` is true, sample ``i``
  of ``data`` is at ``starting_time + i / sample_rate`` within ``time_tolerance``.
  Times are on the stream's clock, as stored (``clock``, like ``chunks``); a stream with a
  stored time model gets the model's times (``time_source`` 'model'; :mod:`.timebase`),
* attributes ``regular``, ``starting_time``, ``time_tolerance``, ``name``, ``streamtype``,
  ``sample_rate`` (the fitted rate when ``regular`` with a model), ``nominal_rate``,
  ``time_source`` ('stamps', 'model' or 'alignment'), ``start_index`` (absolute index
  of ``data[0]``), ``stop_index``, ``units``, ``dtype``, ``channel_info``/``clock``/
  ``codec``/``metadata`` (JSON text), ``channel_names`` when channels are named;
  file attributes ``recording_url``, ``recording_uuid``, ``format``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable

import numpy as np

from .export import gap_fill, output_file, stream_list
from .progress import progress_bar
from .stored import StoredStream
from .timebase import alignment_for, sample_times, time_model_of, timebase

__all__ = ["to_hdf5"]


def _h5py() -> ModuleType:
    try:
        import h5py
    except ImportError:
        raise ImportError("HDF5 export needs h5py: pip install 'acqflow[storage]'") from None
    return h5py


def _write_stream(h5py: ModuleType, f: Any, stream: StoredStream, start: int | None, stop: int | None,
                  fill: Any, compression: str | None, bar: Any, tolerance: float | None,
                  times: str | None = None) -> None:
    start, stop = stream.bounds(start, stop)
    g = f.create_group(stream.name)
    shape = (stop - start,) + stream.shape[1:]
    row_bytes = max(1, stream.dtype.itemsize * int(np.prod(stream.shape[1:], dtype=np.int64)))
    rows = max(1, min(stop - start, (1 << 20) // row_bytes))
    dset = g.create_dataset("data", shape=shape, dtype=stream.dtype, compression=compression,
                            chunks=(rows,) + stream.shape[1:] if stop > start else None)
    gaps = stream.gaps_in(start, stop) if stop > start else []
    value = gap_fill(stream.dtype, fill)
    for g0, g1 in gaps:
        if stream.dtype.names:
            dset[g0 - start:g1 - start] = np.zeros(g1 - g0, stream.dtype)
        else:
            dset[g0 - start:g1 - start] = value
    for s, data in (stream.chunks(start, stop) if stop > start else ()):
        dset[s - start:s - start + len(data)] = data
        bar.update(len(data))
    g.create_dataset("gaps", data=np.array(gaps, np.int64).reshape(-1, 2))
    a = stream.record_table(start, stop) if stop > start else {"t": ()}
    g.create_dataset("chunks", data=np.stack([a["start"], a["stop"], a["t"]], axis=1)
                     .astype(np.float64) if len(a["t"]) else np.zeros((0, 3)))
    tb = timebase(stream, start, stop, tolerance, local=False, times=times)
    g.create_dataset("segments", data=np.array(
        [(x.start, x.stop, x.t0) for x in tb.segments], np.float64).reshape(-1, 3))
    g.create_dataset("segment_rates", data=np.array([x.rate for x in tb.segments], np.float64))
    if not tb.regular:
        tset = g.create_dataset("times", shape=(stop - start,), dtype=np.float64,
                                compression=compression)
        pos = 0
        for t in sample_times(stream, start, stop, local=False, times=times):
            tset[pos:pos + len(t)] = t
            pos += len(t)
    attrs = {"regular": tb.regular, "time_tolerance": tb.tolerance,
             "starting_time": np.nan if tb.starting_time is None else tb.starting_time,
             "name": stream.name, "streamtype": stream.streamtype,
             "sample_rate": tb.segments[0].rate if tb.regular and tb.segments
             else stream.sample_rate, "nominal_rate": stream.sample_rate,
             "time_source": "model" if time_model_of(stream, times) else
             "alignment" if alignment_for(stream, times) else "stamps", "start_index": start, "stop_index": stop,
             "units": stream.units or "", "dtype": str(stream.dtype) if not stream.dtype.names
             else json.dumps(stream.dtype.descr),
             "channel_info": json.dumps(stream.channel_info),
             "clock": json.dumps(stream.entry.get("clock")),
             "codec": json.dumps(stream.codec), "fill": repr(value),
             "metadata": json.dumps(stream.entry.get("metadata") or {})}
    info = stream.channel_info or []
    names = [c.get("name") for c in info if isinstance(c, dict)]
    if names and len(names) == len(info) and all(isinstance(n, str) for n in names):
        attrs["channel_names"] = np.array(names, dtype=h5py.string_dtype())
    g.attrs.update(attrs)


def to_hdf5(streams: StoredStream | Iterable[StoredStream], path: str | os.PathLike,
            start: int | None = None, stop: int | None = None, fill: Any = None,
            compression: str | None = None, progress: bool | None = None,
            tolerance: float | None = None, overwrite: bool = False,
            times: str | None = None) -> Path:
    """Write one or several stored streams to an HDF5 file (layout: module docstring).

    ``start``/``stop`` (absolute indexes) apply to a single stream; with several,
    each stream is written whole.  ``compression``: an h5py filter such as 'gzip'.
    ``tolerance``: how far (s) stamps may stray from a regular grid before a ``times``
    dataset is written (default: :func:`.timebase.default_tolerance`).  ``times``: from
    the stored time model (default, when there is one), ``'model'`` or raw ``'stamps'``.
    """
    h5py = _h5py()
    streams = stream_list(streams, start, stop, "to_hdf5")
    total = sum(s.n_samples for s in streams)
    bar = progress_bar(total, f"export {Path(path).name}", "sample", progress)
    try:
        with output_file(path, overwrite) as tmp, h5py.File(tmp, "w") as f:
            rec = streams[0].recording
            f.attrs.update({"format": "acqflow-recording-export", "recording_url": rec.url,
                            "recording_uuid": rec.uuid})
            for s in streams:
                _write_stream(h5py, f, s, start, stop, fill, compression, bar, tolerance,
                              times)
    finally:
        bar.close()
    return Path(path)
