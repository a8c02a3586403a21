"""The in-memory block index of a recording: loaded from index.afidx, checked against
the segment files, completed (or rebuilt) by scanning segments, refreshed live.

Everything accepted is a *valid prefix* of the block series: the first torn or
damaged block ends it, and the problem is reported in ``damage``/``torn_bytes``.
"""
from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from .backends import Backend
from .format import BlockFormatError, BlockInfo, Record, parse_index, scan_blocks, verify_block
from .manifest import INDEX, segment_name

__all__ = ["Damage", "BlockIndex", "StreamTable"]


class Damage(NamedTuple):
    """One problem found in a recording; ``lost`` is False when nothing was lost."""
    segment: int
    offset: int
    reason: str
    lost: bool = True


class StreamTable:
    """Per-stream record arrays (start, n, time, block, payload offsets) for fast lookup.

    Grows incrementally: rows added since the last access are converted and
    appended, so a live follower does not rebuild everything on each refresh.
    """

    _COLS = ("start", "n", "block", "poff", "nbytes", "crc", "flags")

    def __init__(self) -> None:
        self._pending: list[tuple[int, ...]] = []
        self._pending_t: list[float] = []
        self.frames: list[list[int] | None] = []
        self._arrays: dict[str, np.ndarray] = {
            **{c: np.zeros(0, np.int64) for c in self._COLS},
            "stop": np.zeros(0, np.int64), "t": np.zeros(0, np.float64)}
        self._lock = threading.Lock()

    def add(self, rec: Record, block: int) -> None:
        """Append one record (records arrive in index order)."""
        with self._lock:
            self._pending.append((rec.start, rec.n, block, rec.poff, rec.nbytes, rec.crc,
                                  rec.flags))
            self._pending_t.append(rec.t)
            self.frames.append(rec.frames)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """Columns ``start, n, stop, t (non-decreasing), block, poff, nbytes, crc, flags``."""
        with self._lock:
            if self._pending:
                self._merge_pending()
            return self._arrays

    def _merge_pending(self) -> None:
        rows = np.array(self._pending, dtype=np.int64).reshape(-1, len(self._COLS))
        t = np.array(self._pending_t, dtype=np.float64)
        old = self._arrays
        if len(old["t"]):
            t[0] = max(t[0], old["t"][-1])
        t = np.maximum.accumulate(t)
        new: dict[str, np.ndarray] = {c: rows[:, k] for k, c in enumerate(self._COLS)}
        new["stop"] = new["start"] + new["n"]
        new["t"] = t
        self._arrays = {c: np.concatenate([old[c], new[c]]) for c in old}
        self._pending, self._pending_t = [], []


class BlockIndex:
    """Valid prefix of a recording's blocks, plus the damage found on the way."""

    def __init__(self, backend: Backend, verify: bool = False):
        self.backend = backend
        self.verify = verify
        self.blocks: list[BlockInfo] = []
        self.streams: dict[int, StreamTable] = {}
        self.damage: list[Damage] = []
        self.torn_bytes = 0
        self._index_pos = 0
        self._index_ok = True
        self._index_beyond = False
        self._stopped = False
        self._seg, self._off = 0, 0  # where the next block must start

    @property
    def stopped(self) -> bool:
        """True once damage fixed the valid prefix (no further growth is accepted)."""
        return self._stopped

    def _accept(self, info: BlockInfo) -> bool:
        expected_seq = self.blocks[-1].seq + 1 if self.blocks else None
        if expected_seq is not None and info.seq != expected_seq:
            self._fail(info.segment, info.offset,
                       f"block sequence jumps from {expected_seq - 1} to {info.seq}")
            return False
        no = len(self.blocks)
        self.blocks.append(info)
        for rec in info.records:
            self.streams.setdefault(rec.stream, StreamTable()).add(rec, no)
        self._seg, self._off = info.segment, info.end
        return True

    def _fail(self, segment: int, offset: int, reason: str) -> None:
        self.damage.append(Damage(segment, offset, reason))
        self._stopped = True

    def _check_full(self, info: BlockInfo) -> bool:
        """Read and CRC-check a whole indexed block (verify mode)."""
        try:
            buf = self.backend.read(segment_name(info.segment), info.offset, info.length,
                                    immutable=True)
            _seq, records = verify_block(buf)
        except BlockFormatError as exc:
            self._fail(info.segment, info.offset, str(exc))
            return False
        if records != info.records:
            self._fail(info.segment, info.offset, "index entry disagrees with block table")
            return False
        return True

    def _from_index(self) -> None:
        size = self.backend.size(INDEX)
        if size is None or size <= self._index_pos:
            return
        try:
            data = self.backend.read(INDEX, self._index_pos)
        except FileNotFoundError:
            return
        # Index first, listing second: every indexed block is then in the listing.
        sizes = self.backend.segments()
        entries, _consumed, damaged = parse_index(data)
        base = self._index_pos
        for info, end in entries:
            pos = (info.segment, info.offset)
            if pos < (self._seg, self._off):
                self._index_pos = base + end  # already found by a segment scan
                continue
            if pos == (self._seg, self._off):
                pass
            elif (info.offset == 0 and info.segment == self._seg + 1
                  and sizes.get(self._seg, 0) == self._off):
                pass
            else:
                return  # unaccounted bytes before this entry: let the scan decide
            if info.end > sizes.get(info.segment, -1):
                if not self._index_beyond:  # segments are written before the index
                    self._index_beyond = True
                    self.damage.append(Damage(info.segment, info.offset, "index refers to "
                                              "block data missing from the segment"))
                return  # the scan keeps the valid prefix
            if self.verify and not self._check_full(info):
                return
            if not self._accept(info):
                return
            self._index_pos = base + end
        if damaged:
            self._index_ok = False
            self.damage.append(Damage(-1, base + _consumed, "index entry damaged; "
                                      "rebuilt from segments", lost=False))

    def _scan(self, sizes: dict[int, int]) -> None:
        self.torn_bytes = 0
        while not self._stopped:
            size = sizes.get(self._seg)
            later = [s for s in sizes if s > self._seg]
            if size is None:
                if later:
                    self._fail(self._seg, 0, f"segment {self._seg} is missing")
                return
            if size > self._off:
                try:
                    data = self.backend.read(segment_name(self._seg), self._off,
                                             size - self._off)
                except FileNotFoundError:
                    self._fail(self._seg, self._off, f"segment {self._seg} vanished")
                    return
                seg, start = self._seg, self._off
                try:
                    for info in scan_blocks(data, seg, start, verify=True):
                        if not self._accept(info):
                            return
                except BlockFormatError as exc:
                    if exc.torn and not later:
                        self.torn_bytes = size - self._off
                    else:
                        self._fail(self._seg, self._off, str(exc))
                    return
            if self._off < size:
                return
            if self._seg + 1 in sizes:
                self._seg, self._off = self._seg + 1, 0
                continue
            if later:
                self._fail(self._seg + 1, 0, f"segment {self._seg + 1} is missing")
            return

    def refresh(self) -> int:
        """Pick up blocks sealed since the last call; returns how many were added."""
        if self._stopped:
            return 0
        before = len(self.blocks)
        self.backend.refresh()
        if self._index_ok:
            self._from_index()
        self._scan(self.backend.segments())
        return len(self.blocks) - before
