"""How LSL/XDF streams sit in a recording, shared by ``acqflow lsl record`` and XDF export/import.

A numeric LSL stream ``NAME`` is stored with a companion ``NAME.timestamps`` stream (float64
``(-1, 1)``, same indexes: each sample's LSL stamp); a string stream is an 'event' stream
whose ``time`` field is the stamp.  Clock offsets are kept in the stream's ``clock_sync``
manifest entry as LabRecorder measures them (``lsl_offsets``: ``[collection time, offset]``).
XDF 1.0 chunk layout: https://github.com/sccn/xdf/wiki/Specifications.
"""
from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from typing import Any, Iterable

import numpy as np

__all__ = ["TIMESTAMPS_SUFFIX", "LSL_CLOCK", "FORMAT_NAMES", "DTYPES_BY_FORMAT", "string_dtype",
           "lsl_clock_sync", "desc_channels", "channel_info", "xml_text", "cut_utf8", "varlen",
           "chunk", "NAMED_CHANNELS", "TAG_FILE_HEADER", "TAG_STREAM_HEADER", "TAG_SAMPLES",
           "TAG_CLOCK_OFFSET", "TAG_BOUNDARY", "TAG_STREAM_FOOTER"]

TIMESTAMPS_SUFFIX = ".timestamps"
LSL_CLOCK: dict[str, Any] = {
    "source": "pylsl.local_clock", "kind": "lsl", "unit": "s",
    "epoch": "the source host's LSL local_clock()",
    "timestamp": "chunk timestamp is the LSL stamp of the chunk's last sample"}
# numpy dtype name -> XDF / LSL XML <channel_format>
FORMAT_NAMES = {"float32": "float32", "float64": "double64", "int8": "int8", "int16": "int16",
                "int32": "int32", "int64": "int64"}
DTYPES_BY_FORMAT = {v: np.dtype(k) for k, v in FORMAT_NAMES.items()}

TAG_FILE_HEADER, TAG_STREAM_HEADER, TAG_SAMPLES = 1, 2, 3
TAG_CLOCK_OFFSET, TAG_BOUNDARY, TAG_STREAM_FOOTER = 4, 5, 6
NAMED_CHANNELS = 4096     # channels beyond this get a channel_info entry only if described
# characters XML 1.0 forbids even as references (C0 controls but tab/LF/CR, surrogates, ...)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def string_dtype(label_size: int) -> np.dtype:
    """Event sample of a string stream: ``index`` (-1), ``time`` (LSL stamp), ``label``."""
    return np.dtype([("index", "int64"), ("time", "float64"), ("label", f"S{max(1, label_size)}")])


def lsl_clock_sync(offsets: Iterable[Iterable[float]], source: str,
                   reconnects: list | None = None, **extra: Any) -> dict[str, Any]:
    """A ``clock_sync`` manifest entry from LSL ``[collection time, time_correction]`` pairs.

    ``offset`` (source - recorder, acqflow's convention) is minus the last correction;
    ``history`` holds every estimate, so ``StoredStream.to_recorder_clock`` interpolates.
    """
    pairs = [[float(t), float(v)] for t, v in offsets]
    last = pairs[-1] if pairs else None
    return {"id": f"lsl:{source}", "recorder_id": "lsl:recorder",
            "offset": None if last is None else -last[1],
            "uncertainty": None if last is None else 0.0, "drift": 0.0,
            "t_ref": None if last is None else last[0],
            "history": [[t, -v, 0.0] for t, v in pairs], "lsl_offsets": pairs,
            "lsl_offsets_doc": "[recorder local_clock(), time_correction()] pairs, as XDF "
                               "ClockOffset chunks", "reconnects": list(reconnects or []),
            **extra}


def desc_channels(xml: str) -> list[dict[str, str]]:
    """``<desc><channels><channel>`` of an LSL XML header as dicts of their text fields."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return []
    out = []
    for ch in root.findall("./desc/channels/channel"):
        out.append({c.tag: (c.text or "") for c in ch if len(c) == 0})
    return out


def channel_info(n: int, channels: list[dict[str, str]]) -> list[dict[str, Any]]:
    """acqflow ``channel_info`` (name, units, type, other text fields) of ``n`` channels.

    Undescribed channels past ``NAMED_CHANNELS`` get no entry (readers call them ``ch{i}``):
    a 30-byte header declaring millions of channels must not write a huge manifest."""
    out = []
    for i in range(min(n, max(len(channels), NAMED_CHANNELS))):
        ch = dict(channels[i]) if i < len(channels) else {}
        entry: dict[str, Any] = {"name": ch.pop("label", "") or f"ch{i}"}
        if ch.get("unit"):
            entry["units"] = ch.pop("unit")
        entry.update({k: v for k, v in ch.items() if v})
        out.append(entry)
    return out


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 cannot hold (control characters other than tab,
    LF and CR, lone surrogates, U+FFFE/U+FFFF) replaced by U+FFFD, so XDF readers parse it."""
    return _NOT_XML.sub("\ufffd", text)


def cut_utf8(data: bytes, size: int) -> bytes:
    """``data`` cut to at most ``size`` bytes at a UTF-8 character boundary."""
    if len(data) <= size:
        return data
    cut = size
    while cut > 0 and data[cut] & 0xC0 == 0x80:      # a continuation byte: back up
        cut -= 1
    return data[:cut]


def varlen(n: int) -> bytes:
    """XDF variable-length integer: 1 byte giving the width (1, 4 or 8), then the value."""
    if n < 256:
        return struct.pack("<BB", 1, n)
    if n < 1 << 32:
        return struct.pack("<BI", 4, n)
    return struct.pack("<BQ", 8, n)


def chunk(tag: int, content: bytes) -> bytes:
    """One XDF chunk: varlen length of (tag + content), uint16 tag, content."""
    return varlen(len(content) + 2) + struct.pack("<H", tag) + content
