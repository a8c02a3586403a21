"""Byte layout of segment blocks and index entries (documented in docs/recording.md).

A block is ``header | payload | table | crc``:

* header (32 bytes): ``<4sHHQQI`` magic ``AFB1``, format version, flags, block
  sequence number, payload length, table length, then a CRC32 of those 28 bytes;
* payload: the records' bytes, grouped by stream (so one stream's records in a
  block are one contiguous byte range);
* table: msgpack list of records in arrival order, each
  ``[stream, start, n, t, poff, nbytes, crc, frames]`` or, with a ninth field,
  ``[..., flags]`` (``crc`` is the CRC32 of the record's payload bytes, ``frames`` the
  encoded frame sizes or None, ``flags`` bit 0: a compressed packet that is a keyframe;
  written only when not 0);
* crc: CRC32 of header + table.  Since the table holds every record's CRC, the
  final CRC transitively covers the whole block.

An index entry is ``<II`` (length, CRC32 of body) + msgpack body
``[segment, offset, length, seq, records]``.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any, Iterator, NamedTuple, Sequence

import msgpack

from ..errors import Error

__all__ = ["MAGIC", "VERSION", "VERSIONS", "HEADER_SIZE", "Chunk", "Record", "packed", "BlockInfo", "BlockFormatError",
           "build_block", "block_length", "parse_header", "decode_table", "verify_block",
           "scan_blocks", "encode_index_entry", "parse_index"]

MAGIC = b"AFB1"
VERSION = 2          # written for blocks with a record that has flags; 1 otherwise
VERSIONS = (1, 2)    # read
_HEAD = struct.Struct("<4sHHQQI")
_U32 = struct.Struct("<I")
_ENTRY = struct.Struct("<II")
HEADER_SIZE = _HEAD.size + 4
MAX_TABLE = 1 << 28


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk of one stream on its way into a block (what the writer queues and seals)."""
    stream: int          # stream id (manifest order)
    start: int           # absolute index of the first sample
    n: int               # number of samples
    t: float             # chunk timestamp (time of its last sample)
    payload: Any         # 1-D bytes-like: the samples' bytes, or the encoded frames (video)
    frames: list[int] | None = None  # encoded frame sizes (video codecs) or None
    flags: int = 0       # per-packet flags (KEYFRAME) of compressed video, else 0


class Record(NamedTuple):
    """One chunk of one stream inside a block."""
    stream: int          # stream id (manifest order)
    start: int           # absolute index of the first sample
    n: int               # number of samples
    t: float             # chunk timestamp (time of its last sample)
    poff: int            # payload offset inside the block payload
    nbytes: int          # payload byte count
    crc: int             # zlib.crc32 of the payload bytes
    frames: list[int] | None  # encoded frame sizes (video codecs) or None
    flags: int = 0       # bit 0: keyframe packet (compressed video); version-2 blocks only

    @property
    def stop(self) -> int:
        """Absolute index one past the last sample."""
        return self.start + self.n


class BlockInfo(NamedTuple):
    """Where a sealed block lives and what it holds."""
    segment: int
    offset: int
    length: int
    seq: int
    records: list[Record]

    @property
    def end(self) -> int:
        """Byte offset one past the block in its segment."""
        return self.offset + self.length


class BlockFormatError(Error, ValueError):
    """Bytes that are not a complete valid block; ``torn`` means merely cut short."""

    def __init__(self, message: str, torn: bool = False):
        super().__init__(message)
        self.torn = torn


def block_length(payload_len: int, table_len: int) -> int:
    """Total byte length of a block with these payload and table sizes."""
    return HEADER_SIZE + payload_len + table_len + 4


def packed(rec: Record) -> list:
    """The record as stored: 8 fields, or 9 when it has flags (so blocks and index
    entries without flags stay byte-identical to version 1)."""
    return list(rec) if rec.flags else list(rec)[:8]


def build_block(seq: int, items: Sequence[Chunk]) -> tuple[list[bytes], list[Record]]:
    """Encode chunks given in arrival order.

    Returns the byte parts to write in order (suitable for ``os.writev``) and the
    records (with payload offsets) for the index.
    """
    order = sorted(range(len(items)), key=lambda k: items[k].stream)  # stable: groups streams
    offsets = [0] * len(items)
    parts: list[bytes] = [b""]
    pos = 0
    for k in order:
        payload = items[k].payload
        offsets[k] = pos
        pos += len(payload)
        parts.append(payload)
    records = [Record(c.stream, int(c.start), int(c.n), float(c.t), offsets[k], len(c.payload),
                      zlib.crc32(c.payload), c.frames, int(c.flags))
               for k, c in enumerate(items)]
    table = msgpack.packb([packed(r) for r in records], use_bin_type=True)
    version = VERSION if any(r.flags for r in records) else 1
    fields = _HEAD.pack(MAGIC, version, 0, seq, pos, len(table))
    header = fields + _U32.pack(zlib.crc32(fields))
    parts[0] = header
    parts.append(table)
    parts.append(_U32.pack(zlib.crc32(table, zlib.crc32(header))))
    return parts, records


def parse_header(buf: bytes | memoryview) -> tuple[int, int, int]:
    """``(seq, payload_len, table_len)`` of the header at the start of ``buf``."""
    if len(buf) < HEADER_SIZE:
        raise BlockFormatError("truncated block header", torn=True)
    fields = bytes(buf[:_HEAD.size])
    (crc,) = _U32.unpack_from(buf, _HEAD.size)
    if zlib.crc32(fields) != crc:
        raise BlockFormatError("block header CRC mismatch")
    magic, version, _flags, seq, payload_len, table_len = _HEAD.unpack(fields)
    if magic != MAGIC or version not in VERSIONS or table_len > MAX_TABLE:
        raise BlockFormatError(f"bad block header (magic {magic!r}, version {version})")
    return seq, payload_len, table_len


def _records(obj: object, payload_len: int) -> list[Record]:
    if not isinstance(obj, list):
        raise BlockFormatError("block table is not a list")
    out = []
    for item in obj:
        if not isinstance(item, list) or len(item) not in (8, 9):
            raise BlockFormatError("malformed block record")
        rec = Record(*item)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in
                   (rec.stream, rec.start, rec.n, rec.poff, rec.nbytes, rec.crc, rec.flags)):
            raise BlockFormatError(f"block record with a non-integer field: {item[:9]!r:.120}")
        if rec.poff < 0 or rec.nbytes < 0 or rec.poff + rec.nbytes > payload_len or rec.n < 0:
            raise BlockFormatError("block record outside the payload")
        if len(item) == 9 and not 0 < rec.flags < 2:
            raise BlockFormatError(f"block record with unknown flags {rec.flags!r:.40}")
        out.append(rec)
    return out


def decode_table(buf: bytes | memoryview) -> tuple[int, list[Record]]:
    """Check a whole block's header and table CRCs; return ``(seq, records)``.

    Payload bytes are not checked here (see :func:`verify_block`).
    """
    seq, payload_len, table_len = parse_header(buf)
    total = block_length(payload_len, table_len)
    if len(buf) < total:
        raise BlockFormatError(f"block needs {total} bytes, {len(buf)} present", torn=True)
    t0 = HEADER_SIZE + payload_len
    table = bytes(buf[t0:t0 + table_len])
    (crc,) = _U32.unpack_from(buf, t0 + table_len)
    if zlib.crc32(table, zlib.crc32(bytes(buf[:HEADER_SIZE]))) != crc:
        raise BlockFormatError("block table CRC mismatch")
    try:
        obj = msgpack.unpackb(table, raw=False)
    except Exception as exc:  # CRC matched, so this is a writer bug or a CRC collision
        raise BlockFormatError(f"undecodable block table: {exc}") from None
    return seq, _records(obj, payload_len)


def verify_block(buf: bytes | memoryview) -> tuple[int, list[Record]]:
    """Full check of one block (header, table and every record's payload CRC)."""
    seq, records = decode_table(buf)
    view = memoryview(buf)[HEADER_SIZE:]
    for rec in records:
        if zlib.crc32(view[rec.poff:rec.poff + rec.nbytes]) != rec.crc:
            raise BlockFormatError(f"payload CRC mismatch (stream {rec.stream}, "
                                   f"samples {rec.start}:{rec.stop})")
    return seq, records


def scan_blocks(buf: bytes | memoryview, segment: int, base: int, verify: bool = True
                ) -> Iterator[BlockInfo]:
    """Yield the valid blocks at the start of ``buf`` (which begins at byte ``base``).

    Stops silently at the end of the buffer; raises BlockFormatError at the
    first torn (``torn=True``) or damaged block, after yielding those before it.
    """
    view = memoryview(buf)
    pos = 0
    while pos < len(view):
        rest = view[pos:]
        _seq, payload_len, table_len = parse_header(rest)
        total = block_length(payload_len, table_len)
        if len(rest) < total:
            raise BlockFormatError(f"block at {base + pos} cut short", torn=True)
        seq, records = (verify_block if verify else decode_table)(rest[:total])
        yield BlockInfo(segment, base + pos, total, seq, records)
        pos += total


def encode_index_entry(info: BlockInfo) -> bytes:
    """One framed index entry for a sealed block."""
    body = msgpack.packb([info.segment, info.offset, info.length, info.seq,
                          [packed(r) for r in info.records]], use_bin_type=True)
    return _ENTRY.pack(len(body), zlib.crc32(body)) + body


def parse_index(buf: bytes | memoryview) -> tuple[list[tuple[BlockInfo, int]], int, bool]:
    """Decode index entries; returns ``([(block, end position)], bytes consumed, damaged)``.

    Stops at a torn tail (damaged=False) or at the first bad entry (damaged=True).
    """
    view = memoryview(buf)
    pos = 0
    out: list[tuple[BlockInfo, int]] = []
    while pos + _ENTRY.size <= len(view):
        length, crc = _ENTRY.unpack_from(view, pos)
        body = view[pos + _ENTRY.size:pos + _ENTRY.size + length]
        if len(body) < length:
            return out, pos, False
        if zlib.crc32(body) != crc:
            return out, pos, True
        try:
            seg, off, total, seq, recs = msgpack.unpackb(body, raw=False)
            seq, payload_len = int(seq), total - HEADER_SIZE - 4
            info = BlockInfo(int(seg), int(off), int(total), seq, _records(recs, payload_len))
        except Exception:
            return out, pos, True
        pos += _ENTRY.size + length
        out.append((info, pos))
    return out, pos, False
