"""The stats of the Player and of the audio device."""
from __future__ import annotations

from dataclasses import dataclass

from ..dataflow.stats import Stats

__all__ = ["PlayerStats", "AudioStats"]


@dataclass(frozen=True)
class PlayerStats(Stats):
    """Position, rate, end; chunks/samples sent per stream, index offsets, and pacing lateness
    (send time minus due time, s; None before any paced chunk)."""

    position: float
    rate: float
    ended: bool
    sent: dict[str, dict[str, int]]
    index_offsets: dict[str, int]
    lateness_p50: float | None
    lateness_p99: float | None
    lateness_max: float | None


@dataclass(frozen=True)
class AudioStats(Stats):
    """Loss counters of an audio device."""

    overflows: int
    lost_samples: int
    underflows: int
    silence_samples: int
    played_samples: int
