"""Export stored streams to XDF 1.0 (read by pyxdf, and through it by MNE and EEGLAB).

Layout: FileHeader, per stream a StreamHeader (the LSL XML header: the recorded one for
streams from ``acqflow lsl record`` / XDF import, else one built from the stream's params),
Samples chunks (every stored sample with its time stamp), ClockOffset chunks, StreamFooter.
Time stamps are on the source's clock: LSL stamps for LSL streams (``NAME.timestamps``),
the ``time`` field of events, else the stored sample times; the offsets are the recorded
``lsl_offsets`` (or acqflow's clock-sync history), so pyxdf's ``synchronize_clocks`` maps
every stream onto the recorder's clock.  A stream aligned by a sync line (:mod:`.align`)
gets its common-clock times as stamps and zero ClockOffsets (the common clock is already
the recorder's), so ``synchronize_clocks`` keeps them as they are.  A stream with a stored
time model (:mod:`.timebase`) gets the model's time of each sample as its stamp, on the
source's clock like the raw stamps, with the same ClockOffsets.
Gaps are simply absent samples (XDF has no gaps).
A sample without a finite stamp is refused (pyxdf's clock processing turns every stamp of
such a stream into NaN) unless ``nonfinite='drop'`` leaves it out, counted.  XML text is
escaped, and characters XML 1.0 cannot hold (control characters) become U+FFFD.
"""
from __future__ import annotations

import datetime
import logging
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator

import numpy as np

from acqflow.dataflow.paramcheck import one_of

from .align_model import model_times
from .errors import StorageError
from .export import output_file
from .progress import progress_bar
from .stored import StoredStream
from .streamdata import StreamData
from .timebase import TIMES, alignment_for, time_model_of
from .xdf import (FORMAT_NAMES, TAG_CLOCK_OFFSET, TAG_FILE_HEADER, TAG_SAMPLES,
                  TAG_STREAM_FOOTER, TAG_STREAM_HEADER, TIMESTAMPS_SUFFIX, chunk, varlen,
                  xml_text)

log = logging.getLogger(__name__)

__all__ = ["to_xdf", "xdf_streams"]

_CONVERT = {"uint8": "int16", "uint16": "int32", "uint32": "int64", "bool": "int8",
            "float16": "float32"}
_CHUNK_SAMPLES = 4096


def _is_string(stream: StoredStream) -> bool:
    return stream.streamtype == "event" and "label" in (stream.dtype.names or ())


def _exportable(stream: StoredStream) -> tuple[str, str] | None:
    """``(what, why)`` when ``stream`` cannot go to XDF (what it is, why not), else None."""
    if _is_string(stream):
        return None
    if stream.streamtype == "video":
        return (f"video {'x'.join(map(str, stream.shape[1:]))}",
                "XDF carries numeric and string samples")
    if stream.dtype.names or stream.streamtype not in ("analogsignal", "digitalsignal"):
        return f"{stream.streamtype} {stream.dtype}", "XDF carries numeric channels or strings"
    if len(stream.shape) > 2:
        return f"shape {stream.shape}", "XDF carries (time, channels)"
    name = _CONVERT.get(stream.dtype.name, stream.dtype.name)
    if name not in FORMAT_NAMES:
        return f"dtype {stream.dtype}", f"XDF formats: {', '.join(FORMAT_NAMES)}"
    return None


def xdf_streams(streams: Iterable[StoredStream],
                left_out: list[str] | None = None) -> list[StoredStream]:
    """The streams of a recording that go to XDF ('all'): numeric and string streams,
    without the ``NAME.timestamps`` companions (they give the stamps).  Each other stream
    is logged (INFO) and named in ``left_out``, e.g. ``'cam (video 480x640x3) is not
    written to XDF: XDF carries numeric and string samples; export it to cam.mkv'``."""
    out = []
    for s in streams:
        cannot = _exportable(s)
        if cannot is None:
            if not (s.name.endswith(TIMESTAMPS_SUFFIX)
                    and (s.entry.get("metadata") or {}).get("lsl_timestamps_of")):
                out.append(s)
            continue
        ext = "mkv" if s.streamtype == "video" else "h5"
        note = (f"{s.name} ({cannot[0]}) is not written to XDF: {cannot[1]}; "
                f"export it to {s.name}.{ext}")
        log.info("%s", note)
        if left_out is not None:
            left_out.append(note)
    return out


def _recorded_xml(meta: dict[str, Any]) -> str | None:
    """The recorded LSL header, made XML 1.0-safe; None when there is none or it does not
    parse (the header is then rebuilt from the stream's params)."""
    xml = meta.get("lsl_info_xml")
    if not isinstance(xml, str) or not xml:
        return None
    xml = xml_text(xml)
    try:
        ET.fromstring(xml.encode())
    except ET.ParseError:
        return None
    return xml


def _header_xml(stream: StoredStream, rec_uuid: str) -> str:
    meta = stream.entry.get("metadata") or {}
    recorded = _recorded_xml(meta)
    if recorded is not None:
        return recorded
    string = _is_string(stream)
    n = 1 if string or len(stream.shape) == 1 else int(stream.shape[1])
    irregular = string or meta.get("irregular_rate")
    info = ET.Element("info")
    fmt = "string" if string else FORMAT_NAMES[_CONVERT.get(stream.dtype.name, stream.dtype.name)]
    for tag, value in (("name", stream.name), ("type", meta.get("lsl_type") or
                                               ("Markers" if string else stream.streamtype)),
                       ("channel_count", n),
                       ("nominal_srate", 0 if irregular else repr(float(stream.sample_rate))),
                       ("channel_format", fmt),
                       ("source_id", f"acqflow:{rec_uuid}:{stream.name}"),
                       ("version", "1.1"), ("created_at", 0), ("uid", f"{rec_uuid}-{stream.sid}"),
                       ("session_id", "default"), ("hostname", "")):
        ET.SubElement(info, tag).text = xml_text(str(value))
    desc = ET.SubElement(info, "desc")
    chans = ET.SubElement(desc, "channels")
    ci = stream.entry.get("channel_info") or []
    for i in range(n):
        entry = ci[i] if i < len(ci) and isinstance(ci[i], dict) else {}
        ch = ET.SubElement(chans, "channel")
        ET.SubElement(ch, "label").text = xml_text(str(entry.get("name", f"ch{i}")))
        units = entry.get("units") or (stream.units if isinstance(stream.units, str) else "")
        if units:
            ET.SubElement(ch, "unit").text = xml_text(str(units))
        if entry.get("type"):
            ET.SubElement(ch, "type").text = xml_text(str(entry["type"]))
    ET.SubElement(desc, "acquisition").text = "acqflow"
    return '<?xml version="1.0"?>' + ET.tostring(info, encoding="unicode")


def _companion_stamps(ts: StreamData, a: int, b: int) -> np.ndarray:
    """Stamps ``[a, b)`` from a ``NAME.timestamps`` stream; NaN where it has none."""
    out = np.full(b - a, np.nan)
    lo, hi = max(a, ts.first_index), min(b, ts.stop_index)
    if lo < hi:
        out[lo - a:hi - a] = ts.read(lo, hi, fill=np.nan)[:, 0]
    return out


def _stamped(stream: StoredStream, start: int | None, stop: int | None,
             unstamped: list[int], times: str | None = None
             ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(values, stamps)`` of every stored sample in ``[start, stop)`` with a finite stamp,
    in pieces; ``unstamped[0]`` counts the others."""
    meta = stream.entry.get("metadata") or {}
    companion = meta.get("lsl_timestamps")
    ts = stream.recording[companion] if companion else None
    al = alignment_for(stream, times)
    model = time_model_of(stream, times)
    for s, data in stream.chunks(start, stop):
        for k in range(0, len(data), _CHUNK_SAMPLES):
            part = data[k:k + _CHUNK_SAMPLES]
            a, b = s + k, s + k + len(part)
            if model is not None:       # the fitted model, on the source's clock
                stamps = np.asarray(model.time_of(np.arange(a, b)), np.float64)
            elif al is not None:
                stamps = model_times(al, np.arange(a, b, dtype=np.float64))
            elif ts is not None:
                stamps = _companion_stamps(ts, a, b)
            elif part.dtype.names and "time" in part.dtype.names:
                stamps = part["time"].astype(np.float64)
            else:
                stamps = stream.times(a, b)
            keep = np.isfinite(stamps)
            if not keep.all():
                unstamped[0] += int(len(keep) - keep.sum())
                part, stamps = part[keep], stamps[keep]
            yield part, stamps


def _samples_chunk(sid: int, values: np.ndarray, stamps: np.ndarray, string: bool,
                   fmt: np.dtype | None) -> bytes:
    n = len(stamps)
    body = [sid.to_bytes(4, "little"), varlen(n)]
    if string:
        for v, t in zip(values["label"], stamps):
            label = bytes(v).rstrip(b"\0")
            body.append(b"\x08" + np.float64(t).tobytes() + varlen(len(label)) + label)
    else:
        assert fmt is not None           # (numeric streams have a format)
        vals = values.reshape(n, -1).astype(fmt.newbyteorder("<"), copy=False)
        rec = np.empty(n, dtype=[("nb", "u1"), ("t", "<f8"), ("v", vals.dtype, (vals.shape[1],))])
        rec["nb"], rec["t"], rec["v"] = 8, stamps, vals
        body.append(rec.tobytes())
    return chunk(TAG_SAMPLES, b"".join(body))


def _offsets(stream: StoredStream, times: str | None = None) -> list[tuple[float, float]]:
    al = alignment_for(stream, times)
    if al is not None and len(stream):      # common-clock stamps: nothing to correct
        ends = model_times(al, np.array([stream.first_index, stream.stop_index - 1], float))
        return [(float(t), 0.0) for t in ends]
    sync = stream.clock_sync
    if sync.get("lsl_offsets"):
        return [(float(t), float(v)) for t, v in sync["lsl_offsets"]]
    return [(float(r[0]), -float(r[1])) for r in sync.get("history") or []]


def _footer(first: float | None, last: float | None, count: int,
            offsets: list[tuple[float, float]]) -> bytes:
    info = ET.Element("info")
    ET.SubElement(info, "first_timestamp").text = repr(first if first is not None else 0.0)
    ET.SubElement(info, "last_timestamp").text = repr(last if last is not None else 0.0)
    ET.SubElement(info, "sample_count").text = str(count)
    co = ET.SubElement(info, "clock_offsets")
    for t, v in offsets:
        o = ET.SubElement(co, "offset")
        ET.SubElement(o, "time").text = repr(t)
        ET.SubElement(o, "value").text = repr(v)
    return ('<?xml version="1.0"?>' + ET.tostring(info, encoding="unicode")).encode()


def _write_stream(f: BinaryIO, sid: int, stream: StoredStream, start: int | None,
                  stop: int | None, rec_uuid: str, bar: Any, nonfinite: str,
                  times: str | None = None) -> int:
    """Write one stream's chunks; returns how many samples had no finite stamp (with
    ``nonfinite='error'`` they raise StorageError once counted)."""
    sid_b = sid.to_bytes(4, "little")
    f.write(chunk(TAG_STREAM_HEADER, sid_b + _header_xml(stream, rec_uuid).encode()))
    string = _is_string(stream)
    fmt = None if string else np.dtype(_CONVERT.get(stream.dtype.name, stream.dtype.name))
    offsets = _offsets(stream, times)
    pending = list(offsets)
    first = last = None
    count = 0
    unstamped = [0]
    if len(stream):
        for values, stamps in _stamped(stream, start, stop, unstamped, times):
            if not len(stamps) or (unstamped[0] and nonfinite == "error"):
                continue
            while pending and pending[0][0] <= stamps[-1]:  # interleave, as LabRecorder does
                t, v = pending.pop(0)
                f.write(chunk(TAG_CLOCK_OFFSET, sid_b + np.array([t, v], "<f8").tobytes()))
            f.write(_samples_chunk(sid, values, stamps, string, fmt))
            first = float(stamps[0]) if first is None else first
            last = float(stamps[-1])
            count += len(stamps)
            bar.update(len(stamps))
    if unstamped[0] and nonfinite == "error":
        raise StorageError(f"stream {stream.name!r}: {unstamped[0]} samples have no finite time "
                           "stamp (XDF readers would make every stamp of the stream NaN); "
                           "export with nonfinite='drop' (--drop-unstamped) to leave them out")
    for t, v in pending:
        f.write(chunk(TAG_CLOCK_OFFSET, sid_b + np.array([t, v], "<f8").tobytes()))
    f.write(chunk(TAG_STREAM_FOOTER, sid_b + _footer(first, last, count, offsets)))
    return unstamped[0]


def to_xdf(streams: StoredStream | Iterable[StoredStream], path: str | os.PathLike,
           start: int | None = None, stop: int | None = None,
           progress: bool | None = None, nonfinite: str = "error",
           dropped: dict[str, int] | None = None, overwrite: bool = False,
           times: str | None = None) -> Path:
    """Write ``streams`` (one, or several: every stored sample) to the XDF file ``path``.

    ``start``/``stop`` (sample indexes) apply to a single stream.  Streams XDF cannot carry
    (video, structured non-event dtypes) raise StorageError naming them.  Samples without a
    finite stamp (NaN/inf) raise StorageError naming the stream and their count, unless
    ``nonfinite='drop'``: then they are left out and counted per stream in ``dropped``.
    ``times``: a stream's stamps from its stored time model (default, when it has one),
    ``'model'`` or the raw ``'stamps'`` (:mod:`.timebase`).
    """
    one_of("error", "drop")("nonfinite", nonfinite)
    if times is not None:
        one_of(*TIMES)("times", times)
    streams = [streams] if isinstance(streams, StoredStream) else list(streams)
    if not streams:
        raise ValueError("XDF export needs at least one stream")
    if len(streams) > 1 and (start is not None or stop is not None):
        raise ValueError("start/stop apply to a single stream; export streams one by one")
    for s in streams:
        cannot = _exportable(s)
        if cannot is not None:
            raise StorageError(f"stream {s.name!r} cannot go to XDF: {cannot[0]} ({cannot[1]})")
    rec = streams[0].recording
    path = Path(path)
    info = ET.Element("info")
    ET.SubElement(info, "version").text = "1.0"
    created = rec.manifest.get("created") or 0
    ET.SubElement(info, "datetime").text = datetime.datetime.fromtimestamp(
        created, datetime.timezone.utc).isoformat()
    ET.SubElement(info, "acqflow_recording").text = str(rec.uuid)
    header = '<?xml version="1.0"?>' + ET.tostring(info, encoding="unicode")
    total = sum(s.n_samples for s in streams)
    with output_file(path, overwrite) as tmp, \
            progress_bar(total, f"export {path.name}", "sample", progress) as bar, \
            open(tmp, "wb") as f:
        f.write(b"XDF:")
        f.write(chunk(TAG_FILE_HEADER, header.encode()))
        for sid, s in enumerate(streams, 1):
            n = _write_stream(f, sid, s, start, stop, str(rec.uuid), bar, nonfinite, times)
            if n and dropped is not None:
                dropped[s.name] = n
    return path
