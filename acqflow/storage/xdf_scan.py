"""Check an XDF file's chunk structure and declared sizes before pyxdf allocates anything.

pyxdf trusts every count it reads (a 254-byte chunk claiming 3e7 string samples allocates
gigabytes), stops the whole import at some damaged chunks and silently keeps the last of
two headers with one stream id.  :func:`scan_xdf` walks the chunks itself: every length,
channel count, sample count and string length is checked against the bytes really there,
headers are validated (format, channel count, finite rate, unique ids), and only complete,
consistent chunks are kept.  :func:`load_xdf_checked` then gives pyxdf the file (or, when
something was dropped, a copy holding only the kept chunks), so memory stays proportional
to the file's size.  XDF 1.0: magic ``XDF:``, then chunks ``[varlen length][u16 tag][content]``.
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import struct
import tempfile
import zlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import numpy as np

from .errors import StorageError
from .xdf import (TAG_BOUNDARY, TAG_CLOCK_OFFSET, TAG_FILE_HEADER, TAG_SAMPLES,
                  TAG_STREAM_FOOTER, TAG_STREAM_HEADER)

__all__ = ["XdfFormatError", "XdfStream", "XdfScan", "scan_xdf", "load_xdf_checked",
           "MAX_STREAMS", "MAX_CHANNELS"]

MAX_STREAMS = 1024           # LabRecorder files hold tens; more is a damaged or hostile file
MAX_CHANNELS = 1 << 24       # LSL's channel_count is an int32; beyond this nothing is real
_MAX_XML = 64 << 20          # a header larger than this is not an LSL header
_MAX_DEPTH = 64
_PIECE = 1 << 20
_ITEMSIZE = {"double64": 8, "float32": 4, "int64": 8, "int32": 4, "int16": 2, "int8": 1,
             "string": 0}
BOUNDARY = bytes.fromhex("43A546DCCBF5410FB30ED5467383CBE4")
_WITH_ID = (TAG_STREAM_HEADER, TAG_SAMPLES, TAG_CLOCK_OFFSET, TAG_STREAM_FOOTER)
_KNOWN_TAGS = (TAG_FILE_HEADER, TAG_STREAM_HEADER, TAG_SAMPLES, TAG_CLOCK_OFFSET, TAG_BOUNDARY,
               TAG_STREAM_FOOTER)
_MAX_PROBLEMS = 20
_log = logging.getLogger(__name__)


class XdfFormatError(StorageError, ValueError):
    """An XDF file that cannot be imported: no XDF magic, a damaged or hostile stream header
    (unknown format, bad channel count, non-finite rate, duplicate stream id), no stream."""


@dataclass
class XdfStream:
    """A validated StreamHeader: what pyxdf will allocate per sample."""
    sid: int
    name: str
    fmt: str
    nchns: int
    srate: float
    offset: int


@dataclass
class XdfScan:
    """What :func:`scan_xdf` found: the kept chunks ``(offset, size)``, the streams, and
    what was dropped (``problems``: the first messages; ``dropped``: how many chunks)."""
    path: Path
    streams: dict[int, XdfStream] = field(default_factory=dict)
    kept: list[tuple[int, int]] = field(default_factory=list)
    dropped: int = 0
    ignored_bytes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """True when every byte of the file is in a kept chunk (pyxdf may read it as is)."""
        return not self.dropped and not self.ignored_bytes

    def note(self, offset: int, what: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(f"byte {offset}: {what}")

    def report(self) -> dict[str, Any]:
        """JSON summary for the recording's metadata and the CLI."""
        return {"chunks_kept": len(self.kept), "chunks_dropped": self.dropped,
                "bytes_ignored": self.ignored_bytes, "problems": list(self.problems)}

    def summary(self) -> str:
        """One line saying what was left out, or '' when nothing was."""
        if self.clean:
            return ""
        first = f" (first: {self.problems[0]})" if self.problems else ""
        return (f"{self.path}: damaged or truncated XDF: {self.dropped} chunks dropped, "
                f"{self.ignored_bytes} bytes ignored{first}")


def _gunzip(src: BinaryIO, out: BinaryIO) -> bool:
    """Decompress gzip members from ``src`` to ``out`` in bounded pieces, keeping every byte
    that decompresses (gzip.read loses the last piece of a truncated file); True when the
    data ended at the end of a member."""
    d, complete = zlib.decompressobj(wbits=31), False
    while data := src.read(_PIECE):
        while data:
            out.write(d.decompress(data, _PIECE))
            data, complete = d.unconsumed_tail, False
            if d.eof:                                 # a member ends; another may follow
                data, complete = d.unused_data + data, True
                d = zlib.decompressobj(wbits=31)
    if not complete:
        out.write(d.flush())
    return complete


def _compressed(path: Path) -> bool:
    return path.suffix == ".xdfz" or path.suffixes[-2:] == [".xdf", ".gz"]


@contextlib.contextmanager
def _plain(path: Path) -> Iterator[tuple[Path, str]]:
    """``(plain XDF path, note)``: the file itself, or a temporary decompressed copy of an
    ``.xdfz`` (as much as decompresses; ``note`` says where the compressed data broke)."""
    if not _compressed(path):
        yield path, ""
        return
    fd, tmp = tempfile.mkstemp(prefix="acqflow-xdf-", suffix=".xdf")
    note = ""
    try:
        with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
            try:
                if not _gunzip(src, out):
                    note = f"compressed data unreadable after {out.tell()} bytes (cut short)"
            except zlib.error as exc:
                note = f"compressed data unreadable after {out.tell()} bytes ({exc})"
        yield Path(tmp), note
    finally:
        os.unlink(tmp)


def _varlen(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """``(value, next position)`` of an XDF varlen int in ``buf`` at ``pos``; ValueError."""
    if pos >= len(buf):
        raise ValueError("ends inside a length")
    width = buf[pos]
    if width not in (1, 4, 8):
        raise ValueError(f"invalid length width {width}")
    end = pos + 1 + width
    if end > len(buf):
        raise ValueError("ends inside a length")
    return int.from_bytes(buf[pos + 1:end], "little"), end


def _xml(content: bytes, what: str, decode: bool = False) -> ET.Element:
    """Parse XML as pyxdf does (StreamHeaders decoded as UTF-8 with bad bytes replaced,
    other chunks as raw bytes); no DTDs, bounded nesting (pyxdf's reader recurses)."""
    if len(content) > _MAX_XML:
        raise ValueError(f"{what} of {len(content)} bytes")
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise ValueError(f"{what} declares a DTD/entities")
    try:
        root = ET.fromstring(content.decode("utf-8", "replace") if decode else content)
    except ET.ParseError as exc:
        raise ValueError(f"{what} is not XML ({exc})") from None
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise ValueError(f"{what} nests deeper than {_MAX_DEPTH} elements")
        stack.extend((child, depth + 1) for child in el)
    return root


def _field(root: ET.Element, key: str) -> str:
    """Text of ``<info><key>`` the way pyxdf reads it (first element, no children)."""
    el = root.find(key)
    if el is None or len(el) or el.text is None:
        raise ValueError(f"no <{key}>")
    return el.text


def _stream_header(content: bytes, offset: int) -> XdfStream:
    sid = int.from_bytes(content[:4], "little")
    where = f"stream id {sid}, header at byte {offset}"
    try:
        root = _xml(content[4:], "header", decode=True)
        if root.tag != "info":
            raise ValueError(f"root element <{root.tag[:40]}>, not <info>")
        name = _field(root, "name")
        fmt = _field(root, "channel_format")
        count, rate = _field(root, "channel_count"), _field(root, "nominal_srate")
    except ValueError as exc:
        raise XdfFormatError(f"{where}: damaged StreamHeader: {exc}") from None
    where = f"stream {name[:80]!r} ({where})"
    if fmt not in _ITEMSIZE:
        raise XdfFormatError(f"{where}: unknown channel_format {fmt[:40]!r} "
                             f"(XDF formats: {', '.join(_ITEMSIZE)})")
    try:
        nchns = int(count)
    except ValueError:
        raise XdfFormatError(f"{where}: channel_count {count[:40]!r} is not an integer") from None
    if not 1 <= nchns <= MAX_CHANNELS:
        raise XdfFormatError(f"{where}: channel_count {nchns} is outside 1..{MAX_CHANNELS}")
    try:
        srate = float(rate)
    except ValueError:
        raise XdfFormatError(f"{where}: nominal_srate {rate[:40]!r} is not a number") from None
    if not math.isfinite(srate) or srate < 0:
        raise XdfFormatError(f"{where}: nominal_srate {rate[:40]!r} is not a finite rate >= 0 "
                             "(0 means irregular)")
    return XdfStream(sid, name, fmt, nchns, srate, offset)


def _check_samples(body: memoryview, s: XdfStream) -> str | None:
    """Why a Samples chunk's content (after the stream id) is inconsistent, or None."""
    try:
        n, pos = _varlen(body, 0)
    except ValueError as exc:
        return f"sample count: {exc}"
    rest = len(body) - pos
    per = s.nchns * _ITEMSIZE[s.fmt]
    least = 1 + (2 * s.nchns if s.fmt == "string" else per)
    if n * least > rest:
        return (f"declares {n} samples of stream {s.name[:80]!r} ({s.nchns} channels), at least "
                f"{n * least} bytes, but the chunk holds {rest}")
    if s.fmt != "string":
        if rest in (n * (9 + per), n * (1 + per)) and n:
            stride = rest // n
            flags = np.frombuffer(body, np.uint8, offset=pos)[::stride]
            if np.all(flags == (8 if stride == 9 + per else 0)):
                return None
        for k in range(n):                      # mixed stamped / deduced samples
            if pos >= len(body) or body[pos] not in (0, 8):
                return f"sample {k}: bad time stamp flag"
            pos += 1 + body[pos] + per
        return None if pos == len(body) else f"{len(body) - pos} bytes after the last sample"
    try:
        for k in range(n):
            if pos >= len(body) or body[pos] not in (0, 8):
                return f"sample {k}: bad time stamp flag"
            pos += 1 + body[pos]
            for _ in range(s.nchns):
                size, pos = _varlen(body, pos)
                pos += size
                if pos > len(body):
                    return f"sample {k}: string of {size} bytes past the chunk's end"
    except ValueError as exc:
        return f"string length: {exc}"
    return None if pos == len(body) else f"{len(body) - pos} bytes after the last sample"


def _check_chunk(scan: XdfScan, tag: int, content: bytes, offset: int) -> str | None:
    """Validate one complete chunk; returns why it is dropped, or None to keep it."""
    if tag == TAG_FILE_HEADER:
        try:
            _xml(content, "FileHeader")
        except ValueError as exc:
            return str(exc)
        return None
    if tag not in _WITH_ID:
        return None if tag == TAG_BOUNDARY else f"unknown chunk tag {tag}"
    if len(content) < 4:
        return f"tag {tag} chunk too short for a stream id"
    sid = int.from_bytes(content[:4], "little")
    if tag == TAG_STREAM_HEADER:
        s = _stream_header(content, offset)
        if sid in scan.streams:
            first = scan.streams[sid]
            raise XdfFormatError(
                f"stream id {sid} has two StreamHeaders ({first.name[:80]!r} at byte "
                f"{first.offset}, {s.name[:80]!r} at byte {offset}): pyxdf would keep only the "
                "second; the file is damaged or hand-made")
        if len(scan.streams) >= MAX_STREAMS:
            raise XdfFormatError(f"more than {MAX_STREAMS} streams (stream id {sid} at byte "
                                 f"{offset})")
        scan.streams[sid] = s
        return None
    if sid not in scan.streams:
        return f"tag {tag} chunk of stream id {sid}, which has no StreamHeader before it"
    if tag == TAG_SAMPLES:
        return _check_samples(memoryview(content)[4:], scan.streams[sid])
    if tag == TAG_CLOCK_OFFSET:
        if len(content) != 20:
            return f"ClockOffset of {len(content)} bytes (20 expected)"
        if not all(map(math.isfinite, struct.unpack("<dd", content[4:]))):
            return "ClockOffset with a non-finite time or value"
        return None
    try:
        _xml(content[4:], "StreamFooter")
    except ValueError as exc:
        return str(exc)
    return None


def _resync(f: BinaryIO, start: int) -> int | None:
    """Offset just after the next Boundary chunk's signature at or after ``start``."""
    f.seek(start)
    pos, tail = start, b""
    while True:
        block = f.read(_PIECE)
        if not block:
            return None
        data = tail + block
        hit = data.find(BOUNDARY)
        if hit >= 0:
            return pos - len(tail) + hit + len(BOUNDARY)
        tail = data[-(len(BOUNDARY) - 1):]
        pos += len(block)


def _chunks(f: BinaryIO, scan: XdfScan, size: int) -> Iterator[tuple[int, int, int, bytes]]:
    """``(offset, size, tag, content)`` of every complete chunk of a file of ``size`` bytes;
    notes and skips damage."""
    pos = 4
    while True:
        f.seek(pos)
        head = f.read(11)
        if not head:
            return
        try:
            length, after = _varlen(head, 0)
            if length < 2:
                raise ValueError(f"chunk length {length}")
        except ValueError as exc:
            problem = str(exc)
            length = after = 0
        else:
            problem = ""
            if after + 2 > len(head):
                problem = "ends inside a chunk header"
        if not problem:
            tag = int.from_bytes(head[after:after + 2], "little")
            f.seek(pos + after + 2)
            if pos + after + length <= size:          # never read what is not there
                yield pos, after + length, tag, f.read(length - 2)
                pos += after + length
                continue
            problem = f"chunk (tag {tag}) declares {length} bytes, {size - pos - after} are there"
        scan.note(pos, problem)
        nxt = _resync(f, pos + 1)
        scan.ignored_bytes += (nxt if nxt is not None else size) - pos
        if nxt is None:
            return
        scan.note(nxt, "resumed after a Boundary chunk")
        pos = nxt


def scan_xdf(path: str | os.PathLike, shown: str | os.PathLike | None = None) -> XdfScan:
    """Walk every chunk of a (plain) XDF file, checking sizes and headers; XdfFormatError
    when the file cannot be imported at all (no magic, a bad StreamHeader, no stream).
    ``shown``: the name used in messages (default ``path``)."""
    path = Path(path)
    scan = XdfScan(path)
    shown = path if shown is None else shown
    with open(path, "rb") as f:
        try:
            magic = f.read(4)
        except OSError as exc:
            raise XdfFormatError(f"{shown}: not a readable XDF file ({exc})") from None
        if magic != b"XDF:":
            raise XdfFormatError(f"{shown}: not a readable XDF file (no 'XDF:' magic)")
        try:
            for offset, length, tag, content in _chunks(f, scan, os.fstat(f.fileno()).st_size):
                why = _check_chunk(scan, tag, content, offset)
                if why is None:
                    scan.kept.append((offset, length))
                else:
                    scan.dropped += 1
                    scan.note(offset, why)
        except XdfFormatError as exc:
            raise XdfFormatError(f"{shown}: {exc}") from None
        except OSError as exc:
            raise XdfFormatError(f"{shown}: not a readable XDF file ({exc})") from None
    if not scan.streams:
        raise XdfFormatError(f"{shown}: no complete StreamHeader: nothing to import"
                             + (f" ({scan.problems[0]})" if scan.problems else ""))
    return scan


def _write_kept(scan: XdfScan, dest: str) -> None:
    with open(scan.path, "rb") as src, open(dest, "wb") as out:
        out.write(b"XDF:")
        for offset, size in scan.kept:
            src.seek(offset)
            left = size
            while left:
                part = src.read(min(left, _PIECE))
                out.write(part)
                left -= len(part)


@contextlib.contextmanager
def _readable(scan: XdfScan) -> Iterator[str]:
    """The path pyxdf reads: the file itself when clean, else a temporary copy holding
    only the kept chunks (removed afterwards)."""
    if scan.clean:
        yield str(scan.path)
        return
    fd, tmp = tempfile.mkstemp(prefix="acqflow-xdf-", suffix=".xdf")
    os.close(fd)
    try:
        _write_kept(scan, tmp)
        yield tmp
    finally:
        os.unlink(tmp)


def load_xdf_checked(path: str | os.PathLike) -> tuple[list[dict], dict | None, XdfScan]:
    """pyxdf's ``(streams, fileheader)`` (raw stamps, no clock processing) of the file's
    complete, consistent chunks, and the scan saying what was left out (also logged as one
    warning)."""
    try:
        import pyxdf
    except ImportError as exc:
        raise ImportError(f"XDF import needs pyxdf: pip install acqflow[lsl] ({exc})") from exc
    path = Path(path)
    with _plain(path) as (plain, note):
        scan = scan_xdf(plain, shown=path)
        if note:
            scan.ignored_bytes += 1              # unknown how many: the rest of the file
            scan.problems.insert(0, note)
        with _readable(scan) as readable:
            try:
                streams, header = pyxdf.load_xdf(readable, synchronize_clocks=False,
                                                 dejitter_timestamps=False,
                                                 handle_clock_resets=False)
            except Exception as exc:  # noqa: BLE001 - pyxdf raises anything; scan should prevent
                raise XdfFormatError(f"{path}: not a readable XDF file ({str(exc)[:200]})"
                                     ) from exc
    scan.path = path
    if not scan.clean:
        _log.warning("%s", scan.summary())
    return streams, header, scan

