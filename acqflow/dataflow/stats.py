"""Stats: the one shape of every ``stats()`` (a frozen dataclass per family), and the stats of
inputs and node groups.

A Stats is also a read-only mapping of its fields, so ``st["samples"]`` reads as ``st.samples``
and code reads a local Stats and the plain dict it travels as (RPC, JSON: :meth:`Stats.as_dict`)
alike.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from .plain import to_plain

__all__ = ["Stats", "InputStats", "GroupStats", "quantile"]


@dataclass(frozen=True)
class Stats(Mapping):
    """Base of every family's stats: typed fields, read-only mapping access, :meth:`as_dict`."""

    def as_dict(self) -> dict[str, Any]:
        """Plain values (nested stats as dicts too): what RPC and JSON carry."""
        return {f.name: to_plain(getattr(self, f.name)) for f in fields(self)}

    def __getitem__(self, key: str) -> Any:
        if isinstance(key, str) and key in self.__dataclass_fields__:
            return getattr(self, key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dataclass_fields__)

    def __len__(self) -> int:
        return len(self.__dataclass_fields__)


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1, nearest rank) of sorted values; None when there are none."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None


@dataclass(frozen=True)
class InputStats(Stats):
    """An input's counters; latencies (s) of recent chunks, None before any."""

    chunks: int
    samples: int
    dropped: int
    gaps: int
    index: int | None
    malformed: int
    stale: int
    stream_changes: int
    latency_p50: float | None
    latency_p99: float | None


@dataclass(frozen=True)
class GroupStats(Stats):
    """A node group's process: per node its state, CPU seconds and per-input/output counters
    (plain dicts, as the Manager gathers them)."""

    name: str
    pid: int
    time: float
    process_cpu_s: float
    nodes: dict[str, dict[str, Any]]
