"""Import an XDF file (LabRecorder's, or acqflow's own export) as a recording, through pyxdf.

Every stream becomes what ``acqflow lsl record`` would have recorded: numeric streams as
``NAME`` plus ``NAME.timestamps`` (each sample's stamp), string streams as 'event' streams whose
``time`` is the stamp; the LSL header (rebuilt XML, channel labels/units/types), identity and
the ClockOffset chunks (``clock_sync.lsl_offsets``) go to the manifest.  The file is first
checked chunk by chunk (:mod:`acqflow.storage.xdf_scan`: sizes against the bytes there, headers
valid); values and stamps are then exactly what ``pyxdf.load_xdf(..., synchronize_clocks=False,
dejitter_timestamps=False)`` returns for the file's complete, consistent chunks; pyxdf is the
reference reader (``pip install acqflow[lsl]``).
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from acqflow.dataflow.paramcheck import positive_int_or_none

from .errors import StorageError
from .writer import RecordingWriter
from .xdf import (DTYPES_BY_FORMAT, LSL_CLOCK, TIMESTAMPS_SUFFIX, channel_info, cut_utf8,
                  desc_channels, lsl_clock_sync, string_dtype)
from .xdf_scan import load_xdf_checked

__all__ = ["from_xdf"]

_PIECE = 4096
_FLUSH_BYTES = 64 << 20
_PYXDF_KEYS = {"stream_id", "effective_srate", "segments", "clock_segments"}
_LABEL_SLACK = 64 << 20     # fixed-size labels may take this much more than the labels' bytes


def _first(info: dict, key: str, default: str = "") -> str:
    value = info.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return default if value is None else str(value)


def _to_xml(parent: ET.Element, key: str, values: Any) -> None:
    for v in values if isinstance(values, list) else [values]:
        el = ET.SubElement(parent, key)
        if isinstance(v, dict):
            for k, sub in v.items():
                _to_xml(el, k, sub)
        elif v is not None:
            el.text = str(v)


def header_xml(info: dict) -> str:
    """The LSL XML stream header rebuilt from pyxdf's parsed ``info`` dict."""
    root = ET.Element("info")
    for k, v in info.items():
        if k not in _PYXDF_KEYS:
            _to_xml(root, k, v)
    return '<?xml version="1.0"?>' + ET.tostring(root, encoding="unicode")


def _metadata(info: dict, xml: str, stream_id: Any) -> dict[str, Any]:
    srate = float(_first(info, "nominal_srate", "0") or 0)

    def num(key: str) -> float:
        try:
            value = float(_first(info, key, "0"))
        except ValueError:
            return 0.0
        return value if np.isfinite(value) else 0.0
    return dict(lsl_name=_first(info, "name"), lsl_type=_first(info, "type"),
                lsl_source_id=_first(info, "source_id"), lsl_uid=_first(info, "uid"),
                lsl_hostname=_first(info, "hostname"), lsl_session_id=_first(info, "session_id"),
                lsl_created_at=num("created_at"), lsl_version=num("version"),
                lsl_channel_format=_first(info, "channel_format"),
                lsl_channel_count=int(_first(info, "channel_count", "0")), nominal_srate=srate,
                irregular_rate=srate == 0, lsl_info_xml=xml, xdf_stream_id=stream_id)


class _Loader:
    """Writes pyxdf's streams into a RecordingWriter, flushing so nothing is ever dropped."""

    def __init__(self, writer: RecordingWriter, label_size: int | None):
        self.writer, self.label_size = writer, label_size
        self.pending = 0
        self.names: set[str] = set()

    def _write(self, name: str, data: np.ndarray, stop: int, t: float) -> None:
        if not self.writer.write(name, data, index=stop, timestamp=t):  # pragma: no cover
            raise StorageError(f"writer queue overflowed importing {name!r}")
        self.pending += data.nbytes
        if self.pending >= _FLUSH_BYTES:
            self.writer.flush()
            self.pending = 0

    def _name(self, base: str) -> str:
        name, k = base or "stream", 2
        while name in self.names or name + TIMESTAMPS_SUFFIX in self.names:
            name, k = f"{base}-{k}", k + 1
        self.names.add(name)
        return name

    def add(self, s: dict) -> str:
        info = s["info"]
        xml = header_xml(info)
        meta = _metadata(info, xml, info.get("stream_id"))
        fmt, n = meta["lsl_channel_format"], meta["lsl_channel_count"]
        stamps = np.asarray(s["time_stamps"], dtype=np.float64)
        rate = meta["nominal_srate"] if meta["nominal_srate"] > 0 else 1.0
        chans = channel_info(n, desc_channels(xml))
        name = self._name(meta["lsl_name"])
        sync = lsl_clock_sync(zip(s.get("clock_times") or [], s.get("clock_values") or []),
                              f"{meta['lsl_hostname']}:{meta['lsl_uid']}")
        w = self.writer
        if fmt == "string":
            if n != 1:
                raise StorageError(f"XDF stream {name!r}: {n}-channel string streams are not "
                                   "supported (only single-channel markers)")
            labels = [str(v[0] if isinstance(v, (list, tuple, np.ndarray)) else v).encode()
                      for v in s["time_series"]]
            size = self.label_size or max([len(b) for b in labels] + [1])
            if not self.label_size and len(labels) * size > 16 * sum(map(len, labels)) + \
                    _LABEL_SLACK:
                raise StorageError(
                    f"XDF stream {name!r}: {len(labels)} markers with labels up to {size} bytes "
                    f"would take {len(labels) * size} bytes as fixed-size labels; give "
                    "label_size (--label-size) to cut the long ones")
            labels = [cut_utf8(b, size) for b in labels]
            events = np.zeros(len(labels), dtype=string_dtype(size))
            events["index"], events["time"] = -1, stamps
            events["label"] = labels
            w.add_stream(name, streamtype="event", dtype=string_dtype(size), shape=(-1,),
                         sample_rate=rate, time_field="time", clock=LSL_CLOCK,
                         channel_info=chans, **meta)
            w.set_stream_clock(name, sync)
            for a in range(0, len(events), _PIECE):
                b = min(a + _PIECE, len(events))
                self._write(name, events[a:b], b, float(stamps[b - 1]))
            return name
        dtype = DTYPES_BY_FORMAT.get(fmt)
        if dtype is None:
            raise StorageError(f"XDF stream {name!r}: unknown channel_format {fmt!r}")
        data = np.asarray(s["time_series"], dtype=dtype).reshape(len(stamps), n)
        ts_name = name + TIMESTAMPS_SUFFIX
        self.names.add(ts_name)
        w.add_stream(name, streamtype="analogsignal", dtype=dtype, shape=(-1, n),
                     sample_rate=rate, channel_info=chans, clock=LSL_CLOCK,
                     lsl_timestamps=ts_name, **meta)
        w.add_stream(ts_name, streamtype="analogsignal", dtype="float64", shape=(-1, 1),
                     sample_rate=rate, clock=LSL_CLOCK, lsl_timestamps_of=name,
                     channel_info=[{"name": "time", "units": "s", "clock": "lsl"}])
        for target in (name, ts_name):
            w.set_stream_clock(target, sync)
        for a in range(0, len(stamps), _PIECE):
            b = min(a + _PIECE, len(stamps))
            t = float(stamps[b - 1])
            self._write(name, data[a:b], b, t)
            self._write(ts_name, stamps[a:b, None], b, t)
        return name


def from_xdf(path: str | os.PathLike, out: str | os.PathLike, mode: str = "create",
             label_size: int | None = None) -> Path:
    """Make recording ``out`` from the XDF file ``path`` (every stream); returns its path.

    ``label_size``: bytes per marker label (default: the longest label of each stream; longer
    labels are cut at a UTF-8 character boundary).  A damaged or truncated file gives every
    complete, consistent chunk (``metadata.xdf_import`` says what was left out, and a warning
    is logged); a file that cannot be imported raises XdfFormatError (a StorageError).
    """
    path = Path(path)
    label_size = positive_int_or_none("label_size", label_size)
    streams, header, scan = load_xdf_checked(path)
    streams = sorted(streams, key=lambda s: s["info"].get("stream_id", 0))
    meta = {"xdf_file": str(path.absolute()),
            "xdf_header": dict((header or {}).get("info") or {}), "xdf_import": scan.report()}
    writer = RecordingWriter(out, mode, metadata=meta, fsync="interval")
    try:
        loader = _Loader(writer, label_size)
        for k, s in enumerate(streams):
            try:
                loader.add(s)
            except (ValueError, TypeError, KeyError, IndexError) as exc:   # damaged header
                raise StorageError(f"{path}: stream {k} cannot be imported: "
                                   f"{str(exc)[:200]}") from exc
    except BaseException:
        writer.abort()      # no half import left; what was at ``out`` before stays as it was
        raise
    writer.close()
    return writer.path
