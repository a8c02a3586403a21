"""Epochs cut offline from a recording, as the Epocher cuts them online.

Events that carry an index keep it; markers that carry a time are placed on the signal's
samples by replaying the signal's time model over its stored chunk stamps (the stamps the
Epocher fitted online), so an online epoch and its offline twin start on the same sample
and hold the same values.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..dataflow.streams.eventplace import EventPlacer, epoch_window, split_events
from .streamdata import StreamData

__all__ = ["cut_epochs", "place_events"]


def _on_signal_clock(signal: StreamData, events: StreamData, times: np.ndarray) -> np.ndarray:
    """Stored event times (their source's clock) on the clock of the signal's stamps."""
    a, b = events.clock_sync.get("id"), signal.clock_sync.get("id")
    if a is None or b is None or a == b:
        return times
    t_rec = np.asarray(events.to_recorder_clock(times), float)   # then back out of the recorder's
    return t_rec + (t_rec - np.asarray(signal.to_recorder_clock(t_rec), float))


def place_events(signal: StreamData, events: StreamData | np.ndarray,
                 labels: list | None = None) -> list[tuple[int, bytes]]:
    """``(index, label)`` of each event on ``signal``'s samples, sorted (markers whose time
    the stored signal never reached are left out).  ``events``: a stored event stream or
    an array of events (records with ``index`` / ``time`` / ``label``, or bare indexes;
    times then on the clock of the signal's stamps)."""
    data = events.read() if isinstance(events, StreamData) else np.asarray(events)
    idx, times, names = split_events(data)
    if labels is not None:
        wanted = {x.encode() if isinstance(x, str) else bytes(x) for x in labels}
        keep = [k for k, label in enumerate(names) if label in wanted]
        idx, names = idx[keep], [names[k] for k in keep]
        times = None if times is None else times[keep]
    if times is not None and isinstance(events, StreamData):
        times = _on_signal_clock(signal, events, times)
    placer = EventPlacer(float(signal.params["sample_rate"]), max_pending=len(idx) + 1)
    placed = placer.add(idx, times, names)         # every marker waits for its chunk
    table = signal.record_table()
    for stop, t in zip(table["stop"].tolist(), table["t"].tolist()):
        placed += placer.signal(stop, t)
    return sorted(placed)


def cut_epochs(signal: StreamData, events: StreamData | np.ndarray, pre: float, post: float,
               labels: list | None = None) -> np.ndarray:
    """Records ``(index, label, epoch)`` of the windows ``[-pre, +post)`` s of ``signal``
    around ``events`` (see :func:`place_events`), the Epocher's output dtype; a window
    that is not wholly stored (the recording's ends, a gap) is left out."""
    n_pre, n_post, dtype = epoch_window(pre, post, signal.params)
    first, stop_index, gaps = signal.first_index, signal.stop_index, signal.gaps
    records: list[tuple[int, bytes, Any]] = []
    for i, label in place_events(signal, events, labels):
        start, stop = i - n_pre, i + n_post
        if start < first or stop > stop_index or any(a < stop and start < b for a, b in gaps):
            continue
        records.append((i, label, signal.read(start, stop)))
    out = np.zeros(len(records), dtype)
    for k, rec in enumerate(records):
        out[k] = rec
    return out
