"""The stats of a RecordingWriter (and each of its streams), a Recorder node and the local block cache."""
from __future__ import annotations

from dataclasses import dataclass

from ..dataflow.stats import Stats

__all__ = ["StreamStats", "WriterStats", "CacheStats", "RecorderStats"]


@dataclass(frozen=True)
class StreamStats(Stats):
    """One written stream: indices, chunks and samples, gaps in the source, drops on overflow."""

    first_index: int | None
    expected_stop: int          # stop index claimed by the last write() (caller side)
    sealed_stop: int            # stop index of the last sealed record (writer thread)
    chunks: int
    samples: int
    gaps: int
    gap_samples: int
    dropped_chunks: int         # lost to queue overflow
    dropped_samples: int
    # a compressed video stream's encoder (docs/recording.md, "Video"); None/0 otherwise
    encoder: str | None = None
    preset: str | None = None
    slowdowns: int = 0
    encoder_cpu_s: float = 0.0  # CPU of its encoder thread and of handing frames to it
    frames_encoded: int = 0
    packets: int = 0
    encoder_queue_high_water: int = 0
    skipped_before_keyframe: int = 0    # a packet stream's packets before its first keyframe


@dataclass(frozen=True)
class WriterStats(Stats):
    """A RecordingWriter: blocks sealed, bytes, overflows, queue use and each stream's stats."""

    blocks: int
    bytes: int
    overflows: int
    queue_high_water: int
    queued_bytes: int
    streams: dict[str, StreamStats]


@dataclass(frozen=True)
class CacheStats(Stats):
    """The local cache: directory, cap, size, entries, load and this process's counters."""

    cache_dir: str
    max_bytes: int
    current_size: int
    entries: int
    load_factor: float
    hits: int
    misses: int
    evictions: int
    corrupt: int


@dataclass(frozen=True)
class RecorderStats(Stats):
    """A Recorder node: its writer's stats (None before it opens one) and, per input, the
    input's counters with its gap log, resent chunks and whether its output ended (plain dicts)."""

    path: str
    overflows: int
    writer: WriterStats | None
    inputs: dict[str, dict]
