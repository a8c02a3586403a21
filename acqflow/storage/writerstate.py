"""A RecordingWriter's per-stream state and the control items of its queue."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .stats import StreamStats
from .videoenc import VideoEncoder
from .videopackets import PacketIntake

__all__ = ["StreamState", "Control", "MANIFEST"]


@dataclass
class StreamState:
    sid: int
    entry: dict[str, Any]
    dtype: np.dtype
    shape: tuple[int, ...]
    codec: dict[str, Any] | None
    expected: int = 0           # stop index claimed by the last write() (caller side)
    first: int | None = None
    chunks: int = 0
    samples: int = 0
    gaps: int = 0               # index jumps in the source
    gap_samples: int = 0
    dropped_chunks: int = 0     # lost to queue overflow
    dropped_samples: int = 0
    sealed_stop: int = 0        # writer-thread side: stop index of the last sealed record
    encoder: VideoEncoder | None = None     # compressed video: its encoder thread
    intake: PacketIntake | None = None      # a packet stream: stored as it comes

    def own_copy(self, data: Any, checked: bool = False) -> np.ndarray:
        """``data`` checked against the stream's dtype (a same-kind cast allowed) and sample
        shape, as a C-contiguous array of the writer's own (one copy); a packet stream's one
        packet chunk (copied unless ``checked``)."""
        if self.intake is not None:
            return self.intake.check(data if checked else np.array(data))
        arr = np.asarray(data)
        if arr.dtype != self.dtype and not np.can_cast(arr.dtype, self.dtype, "same_kind"):
            raise TypeError(f"stream {self.entry['name']!r} has dtype {self.dtype}, got {arr.dtype}")
        if arr.ndim != len(self.shape) or arr.shape[1:] != self.shape[1:]:
            raise ValueError(f"stream {self.entry['name']!r} takes chunks of shape "
                             f"{self.shape}, got {arr.shape}")
        return arr.astype(self.dtype, order="C", copy=True)

    def stats(self) -> StreamStats:
        """This stream's counters (and its encoder's), for the manifest and for callers."""
        enc = self.encoder.stats() if self.encoder is not None else \
            self.intake.stats() if self.intake is not None else {}
        return StreamStats(first_index=self.first, expected_stop=self.expected,
                           sealed_stop=self.sealed_stop, chunks=self.chunks, samples=self.samples,
                           gaps=self.gaps, gap_samples=self.gap_samples,
                           dropped_chunks=self.dropped_chunks, dropped_samples=self.dropped_samples,
                           **enc)


@dataclass
class Control:
    kind: str
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


MANIFEST = Control("manifest")    # queued to wake the writer thread for manifest changes
