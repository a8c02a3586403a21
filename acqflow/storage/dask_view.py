"""Lazy Dask and xarray views of a stored stream, for analyses over many recordings
with any Dask scheduler (threads, processes, ``distributed``), local or remote.

The dask array spans samples ``[start, stop)`` (default: the whole stream) on axis 0.
Its chunks are block-aligned: each chunk boundary falls where the stream's records
pass from one storage block to the next, so a chunk reads whole blocks (one request
each when remote) and no block is fetched by two chunks; consecutive blocks are
merged until a chunk holds about ``chunk_bytes``.  A task carries only the
recording's URL, storage options, stream name and sample range (no open files),
so it runs in other processes: each process opens the recording once and keeps it.

Gaps (samples never recorded) read as ``fill``: by default ``'auto'``, NaN for
float streams and 0 for integer ones (as ``StoredStream.read(fill='auto')``);
``fill=None`` makes a chunk overlapping a gap raise GapError when computed.
"""
from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from acqflow.dataflow import paramcheck as check

from .backends import is_local
from .errors import StorageError
from .streamdata import RecordingLike, StreamData

__all__ = ["to_dask", "to_xarray", "block_boundaries"]

_OPEN: OrderedDict[tuple, Any] = OrderedDict()   # (url, options, uuid) -> Recording, per process
_MAX_OPEN = 64                        # recordings kept open per process (least recently used go)
_OPEN_LOCK = threading.Lock()


def _require(module: str, extra: str = "dask") -> ModuleType:
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"stored-stream {module.split('.')[0]} views need {module!r}: "
                          f"pip install acqflow[{extra}] ({exc})") from None


@dataclass(frozen=True)
class _Ref:
    """What a task needs to find the stream again, in any process (picklable, small)."""
    kind: type[RecordingLike]    # the Recording class: its ``open`` reopens by URL
    url: str
    options: str                 # storage options as JSON (hashable)
    cache: Any                   # open_recording's cache argument (None, bool or kwargs dict)
    uuid: str
    name: str

    def key(self) -> tuple:
        return self.url, self.options, self.uuid

    def stream(self) -> StreamData:
        """The stream, from this process's recording (opened on first use)."""
        with _OPEN_LOCK:
            rec = _OPEN.get(self.key())
            if rec is None:
                rec = self.kind.open(self.url, storage_options=json.loads(self.options),
                                     cache=self.cache if not is_local(self.url) else None)
                if str(rec.uuid) != self.uuid:
                    raise StorageError(f"{self.url}: holds recording {rec.uuid}, not the "
                                       f"{self.uuid} this dask array was made from")
                _keep(self.key(), rec)
            else:
                _OPEN.move_to_end(self.key())
        return rec[self.name]


def _keep(key: tuple, rec: Any) -> None:
    """Remember an open recording (caller holds _OPEN_LOCK); forget the oldest past the cap."""
    _OPEN[key] = rec
    _OPEN.move_to_end(key)
    while len(_OPEN) > _MAX_OPEN:
        _OPEN.popitem(last=False)


def _read_block(ref: _Ref, start: int, stop: int, fill: Any) -> np.ndarray:
    return ref.stream().read(start, stop, fill=fill)


def block_boundaries(stream: StreamData, start: int, stop: int,
                     chunk_bytes: int = 32 << 20) -> list[int]:
    """Chunk edges ``[start, ..., stop]`` at block transitions, merged up to ``chunk_bytes``."""
    a = stream.record_table(start, stop)
    blocks = a["block"]
    firsts = a["start"][1:][blocks[1:] != blocks[:-1]]       # first record of each block
    edges = [int(e) for e in firsts if start < e < stop]
    row = max(1, stream.dtype.itemsize * int(np.prod(stream.shape[1:], dtype=np.int64)))
    target = max(1, int(chunk_bytes) // row)
    out = [start]
    for e in edges:
        if e - out[-1] >= target:
            out.append(e)
    if stop > out[-1] or stop == start:
        out.append(stop)
    return out


def to_dask(stream: StreamData, start: int | None = None, stop: int | None = None,
            fill: Any = "auto", chunk_bytes: int = 32 << 20,
            storage_options: dict[str, Any] | None = None, cache: Any = None) -> Any:
    """A lazy ``dask.array.Array`` of samples ``[start, stop)`` (see module docstring).

    ``storage_options``/``cache``: how other processes open a remote recording (as
    for ``open_recording``; the process that calls this reuses its open recording).
    """
    da = _require("dask.array")
    from dask.base import tokenize
    start, stop = stream.bounds(start, stop)
    options = json.dumps(storage_options or {}, sort_keys=True)
    rec = stream.recording
    url = os.path.abspath(rec.url) if is_local(rec.url) else rec.url     # workers' cwd may differ
    ref = _Ref(type(rec), url, options, cache if isinstance(cache, (dict, bool)) or cache is None
               else None, str(rec.uuid), stream.name)
    with _OPEN_LOCK:
        if ref.key() not in _OPEN:
            _keep(ref.key(), rec)
    edges = block_boundaries(stream, start, stop, chunk_bytes)
    name = "acqflow-" + tokenize(ref, start, stop, fill, edges, stream.stop_index)
    rest = tuple(stream.shape[1:])
    zeros = (0,) * len(rest)
    dsk = {(name, i) + zeros: (_read_block, ref, a, b, fill)
           for i, (a, b) in enumerate(zip(edges[:-1], edges[1:]))}
    chunks = (tuple(b - a for a, b in zip(edges[:-1], edges[1:])),) + tuple((n,) for n in rest)
    return da.Array(dsk, name, chunks=chunks, dtype=stream.dtype)


def to_xarray(stream: StreamData, start: int | None = None, stop: int | None = None,
              fill: Any = "auto", chunk_bytes: int = 32 << 20, clock: str = "recorder",
              storage_options: dict[str, Any] | None = None, cache: Any = None) -> Any:
    """An ``xarray.DataArray`` over :func:`to_dask`: dims ``("time", "channel")`` with
    coordinates ``time`` (s; ``clock='recorder'``: the recorder's clock, ``'source'``: as
    stored; inside gaps interpolated from their neighbours), ``index`` (absolute sample
    index) and ``channel`` (channel names).  ``attrs['gaps']`` lists the gaps (JSON)."""
    xr = _require("xarray")
    if stream.dtype.names or len(stream.shape) != 2:
        raise ValueError(f"to_xarray needs a (time, channel) signal; {stream.name!r} is "
                         f"{stream.streamtype} with shape {stream.shape} (use to_dask)")
    check.one_of("recorder", "source")("clock", clock)
    start, stop = stream.bounds(start, stop)
    data = to_dask(stream, start, stop, fill, chunk_bytes, storage_options, cache)
    times = stream.filled_times(start, stop, local=clock == "recorder")
    info = stream.channel_info or []
    names = [str(info[c].get("name", f"ch{c}")) if c < len(info) and isinstance(info[c], dict)
             else f"ch{c}" for c in range(stream.shape[1])]
    attrs = {"stream": stream.name, "recording": stream.recording.url,
             "sample_rate": stream.sample_rate, "units": stream.units or "",
             "streamtype": stream.streamtype, "fill": repr(fill), "clock": clock,
             "gaps": json.dumps(stream.gaps_in(start, stop) if stop > start else [])}
    return xr.DataArray(data, dims=("time", "channel"), name=stream.name, attrs=attrs,
                        coords={"time": times, "index": ("time", np.arange(start, stop)),
                                "channel": names})
