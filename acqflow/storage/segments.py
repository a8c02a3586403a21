"""Appending sealed blocks to rolling segment files and the index, with an fsync policy.

Order per block: segment bytes, then the index entry.  A SIGKILL at any point
leaves at worst a torn block at the end of the last segment (dropped by readers)
and/or a torn index entry (ignored; the segment scan finds the block).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from acqflow.dataflow.paramcheck import one_of

from .backends import LocalBackend, fsync_dir, is_being_written, local_path, write_atomic
from .errors import StorageError
from .format import BlockInfo, Chunk, build_block, encode_index_entry
from .index import BlockIndex
from .manifest import INDEX, SEGMENTS, segment_name

__all__ = ["FSYNC_POLICIES", "SegmentWriter", "AppendPlan", "plan_append", "restore_sizes",
           "rebuild_index"]

FSYNC_POLICIES = ("block", "interval", "none")


def _write_all(fd: int, parts: Sequence[bytes]) -> int:
    """writev every part completely (handles short writes); returns bytes written."""
    views = [memoryview(p) for p in parts if len(p)]
    total = 0
    while views:
        n = os.writev(fd, views[:1024])
        total += n
        while views and n >= len(views[0]):
            n -= len(views[0])
            views.pop(0)
        if n:
            views[0] = views[0][n:]
    return total


class SegmentWriter:
    """Owns the open segment and index files of one recording being written."""

    def __init__(self, root: Path, fsync: str = "block", fsync_interval: float = 1.0,
                 segment_bytes: int = 256 << 20, segment: int = 0, offset: int = 0,
                 seq: int = 0):
        one_of(*FSYNC_POLICIES)("fsync", fsync)
        self.root = root
        self.fsync, self.fsync_interval = fsync, float(fsync_interval)
        self.segment_bytes = int(segment_bytes)
        self.segment, self.offset, self.seq = segment, offset, seq
        self.bytes_written = 0
        self._last_sync = time.monotonic()
        (root / SEGMENTS).mkdir(exist_ok=True)
        self._index_fd = os.open(root / INDEX, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._seg_fd = self._open_segment()

    def _open_segment(self) -> int:
        path = self.root / segment_name(self.segment)
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if created and self.fsync != "none":
            fsync_dir(path.parent)
        return fd

    def append(self, items: Sequence[Chunk]) -> BlockInfo:
        """Seal ``items`` as the next block."""
        if self.offset >= self.segment_bytes and self.offset > 0:
            self._sync(force=True)
            os.close(self._seg_fd)
            self.segment, self.offset = self.segment + 1, 0
            self._seg_fd = self._open_segment()
        parts, records = build_block(self.seq, items)
        length = _write_all(self._seg_fd, parts)
        info = BlockInfo(self.segment, self.offset, length, self.seq, records)
        if self.fsync == "block":  # data durable before the index points at it
            os.fsync(self._seg_fd)
        _write_all(self._index_fd, [encode_index_entry(info)])
        if self.fsync == "block":
            os.fsync(self._index_fd)
        elif self.fsync == "interval":
            self._sync()
        self.offset += length
        self.seq += 1
        self.bytes_written += length
        return info

    def _sync(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_sync >= self.fsync_interval:
            os.fsync(self._seg_fd)
            os.fsync(self._index_fd)
            self._last_sync = now

    def close(self, durable: bool = True) -> None:
        """fsync (unless policy 'none' and not durable) and close both files."""
        try:
            if durable or self.fsync != "none":
                self._sync(force=True)
        finally:
            os.close(self._seg_fd)
            os.close(self._index_fd)


def _segment_sizes(root: Path) -> dict[int, int]:
    backend = LocalBackend(root)
    try:
        return backend.segments()
    finally:
        backend.close()


@dataclass
class AppendPlan:
    """Where appending to a recording continues, and the repair of its torn tail that
    must come first; computed without changing a byte (see :func:`plan_append`)."""
    root: Path
    index: BlockIndex
    segment: int
    offset: int
    seq: int
    truncate: dict[int, int]      # segment number -> valid size (a torn tail beyond it)
    unlink: list[int]             # segments past the last valid block
    index_bytes: bytes | None     # the index to write, None when the file already holds it

    @property
    def start(self) -> tuple[int, int, int]:
        """(segment, offset, next seq): where the next block goes."""
        return self.segment, self.offset, self.seq

    def apply(self) -> dict[str, int]:
        """Repair the torn tail (if any); returns the size of every segment and index
        file afterwards, the point an aborted append truncates back to."""
        for num in self.unlink:
            (self.root / segment_name(num)).unlink()
        for num, size in self.truncate.items():
            with open(self.root / segment_name(num), "r+b") as f:
                f.truncate(size)
                os.fsync(f.fileno())
        if self.index_bytes is not None:
            write_atomic(self.root / INDEX, self.index_bytes)
        sizes = {segment_name(n): s for n, s in _segment_sizes(self.root).items()}
        index = self.root / INDEX
        sizes[INDEX] = index.stat().st_size if index.exists() else 0
        return sizes


def plan_append(root: Path) -> AppendPlan:
    """Plan appending to an interrupted or committed recording: where writing continues
    and what of a torn tail must be dropped first.  Reads only.

    Refuses (StorageError) a recording with damage beyond a torn tail.
    """
    backend = LocalBackend(root)
    try:
        idx = BlockIndex(backend, verify=False)
        idx.refresh()
        sizes = backend.segments()
        current = backend.read(INDEX) if backend.size(INDEX) is not None else None
    finally:
        backend.close()
    lost = [d for d in idx.damage if d.lost]
    if lost:
        raise StorageError(f"{root}: cannot append to a damaged recording: {lost[0].reason}")
    if idx.blocks:
        last = idx.blocks[-1]
        segment, offset, seq = last.segment, last.end, last.seq + 1
    else:
        segment, offset, seq = 0, 0, 0
    unlink = [n for n in sorted(sizes) if n > segment]
    truncate = {n: offset for n in sizes if n == segment and sizes[n] > offset}
    index_bytes = b"".join(encode_index_entry(b) for b in idx.blocks)
    return AppendPlan(root, idx, segment, offset, seq, truncate, unlink,
                      None if current == index_bytes else index_bytes)


def restore_sizes(root: Path, sizes: dict[str, int]) -> None:
    """Cut a recording's segment and index files back to ``sizes`` (from
    :meth:`AppendPlan.apply`) and remove segment files created since."""
    for num in _segment_sizes(root):
        name = segment_name(num)
        if name not in sizes:
            (root / name).unlink()
    for name, size in sizes.items():
        path = root / name
        if path.exists() and path.stat().st_size != size:
            with open(path, "r+b") as f:
                f.truncate(size)
                os.fsync(f.fileno())


def rebuild_index(url: str | os.PathLike) -> list:
    """Rewrite a local recording's index.afidx from a CRC-checked scan of its segments.

    Returns the damage found (the index then covers the valid prefix only).
    """
    root = local_path(url)
    if is_being_written(root):
        raise StorageError(f"{root} is being written; close its writer first")
    backend = LocalBackend(root)
    try:
        idx = BlockIndex(backend, verify=True)
        idx._index_ok = False  # ignore the existing index entirely
        idx.refresh()
    finally:
        backend.close()
    write_atomic(root / INDEX, b"".join(encode_index_entry(b) for b in idx.blocks))
    return idx.damage
