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
