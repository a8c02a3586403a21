"""Events on a signal's samples: an event's own ``index``, or its ``time`` placed through the
signal's time model.

Markers (LSL, EventSource, keyboard) carry a time and ``index = -1``; triggers carry the
index of a sample.  :class:`EventPlacer` turns both into sample indexes of one signal.  A
time is placed with the model as it was fitted when the signal first covered that time
(a snapshot per signal chunk), so where an event lands depends only on the signal's chunk
stamps and the event's time, not on which of them arrived first: replaying the stored
chunks offline (``acqflow.storage.epochs``) places every event on the same sample.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Mapping

import numpy as np

from .spec import make_dtype
from .timemodel import TimeModel

__all__ = ["EventPlacer", "epoch_dtype", "epoch_window", "event_fields", "split_events",
           "on_signal_clock"]


def epoch_dtype(n_samples: int, n_channels: int, dtype: Any = "float32") -> np.dtype:
    """Records of the epoch stream: trigger ``index``, ``label`` and the ``epoch`` window."""
    return np.dtype([("index", "int64"), ("label", "S16"),
                     ("epoch", make_dtype(dtype), (n_samples, n_channels))])


def epoch_window(pre: float, post: float, signal_params: dict) -> tuple[int, int, np.dtype]:
    """``(n_pre, n_post, record dtype)`` of epochs ``[-pre, +post)`` s of a signal (its
    stream params): float signals keep their dtype, others become float32."""
    fs = float(signal_params["sample_rate"])
    n_pre, n_post = int(round(float(pre) * fs)), int(round(float(post) * fs))
    if n_pre + n_post < 1:
        raise ValueError(f"pre + post ({pre!r} + {post!r} s) is shorter than one sample at {fs:g} Hz")
    dtype = make_dtype(signal_params["dtype"])
    dtype = dtype if dtype.kind == "f" else np.dtype("float32")
    return n_pre, n_post, epoch_dtype(n_pre + n_post, signal_params["shape"][1], dtype)


def event_fields(dtype: Any) -> str | None:
    """Why an events dtype cannot be placed on samples (None when it can): it needs an
    integer ``index`` field, a float ``time`` field, or to be bare integer indexes."""
    dt = make_dtype(dtype)
    fields: Mapping[str, Any] = dt.fields or {}
    if dt.fields is None:
        return None if dt.kind in "iu" else f"dtype {dt} is neither integer indexes nor records"
    if "index" in fields and fields["index"][0].kind in "iu":
        return None
    if "time" in fields and fields["time"][0].kind in "fiu":
        return None
    return f"dtype {dt.descr!r} has no integer 'index' nor numeric 'time' field"


def split_events(events: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, list[bytes]]:
    """``(indexes, times or None, labels)`` of an events chunk; a missing index is -1."""
    names = events.dtype.names or ()
    if not names:
        return np.asarray(events, np.int64).reshape(-1), None, [b""] * len(events)
    n = len(events)
    idx = np.asarray(events["index"], np.int64) if "index" in names else np.full(n, -1, np.int64)
    times = np.asarray(events["time"], np.float64) if "time" in names else None
    labels = [bytes(x) for x in events["label"].tolist()] if "label" in names else [b""] * n
    return idx, times, labels


def on_signal_clock(events_input: Any, signal_input: Any, times: np.ndarray) -> np.ndarray:
    """Event times stamped on the events sender's clock, moved to the clock of the signal
    sender's stamps (the two inputs' clock offsets, as the Manager's clock sync estimates
    them); NaN (the events are dropped) while either offset is unknown."""
    a_id, b_id = events_input.clock_id, signal_input.clock_id
    if a_id is None or b_id is None or a_id == b_id:
        return times
    a, b = events_input.clock_offset(), signal_input.clock_offset()    # sender - this process
    if a is None or b is None:
        return np.full(len(times), np.nan)
    return times - a[0] + b[0]


class EventPlacer:
    """Sample indexes of events for one signal.

    Feed it each signal chunk with :meth:`signal` (``index_stop``, the chunk's time stamp)
    and events with :meth:`add`; both return the events placed by the call as
    ``(index, label)`` pairs.  An event with ``index >= 0`` keeps it.  An event with a
    time only waits (:attr:`pending`) until the signal covers its time, then lands on
    ``index_at(time)`` of the model fitted up to that chunk.  Times must be on the clock
    of the signal's stamps (convert them first).  The model is read (a snapshot) at the
    first chunk, then at the first chunk ending ``interval`` s of samples or more after
    the last snapshot's: "covered" means by a snapshot.
    """

    def __init__(self, nominal_rate: float, max_pending: int = 10000, interval: float = 0.02):
        self.model = TimeModel(nominal_rate)
        self.max_pending = int(max_pending)
        self._every = max(1, int(round(float(interval) * float(nominal_rate))))
        self.pending: list[tuple[float, bytes]] = []     # (time, label) not yet covered, sorted
        self.dropped = 0                                 # pending beyond max_pending, no time
        # (head, time of sample head - 1, seconds per sample) after each stamped chunk; the
        # owner drops those of samples it no longer keeps (forget_before), this is a backstop
        self._snaps: deque[tuple[int, float, float]] = deque(maxlen=100_000)

    @staticmethod
    def _index(snap: tuple[int, float, float], t: float) -> int:
        head, t_last, dt = snap
        return head - 1 + int(round((t - t_last) / dt))

    def signal(self, index_stop: int, t: float | None) -> list[tuple[int, bytes]]:
        """A signal chunk ending before ``index_stop`` whose last sample was stamped ``t``
        (None: no stamp; the model is not updated)."""
        if t is None or not np.isfinite(t):
            return []
        self.model.update(index_stop, t)
        if self._snaps and 0 <= index_stop - self._snaps[-1][0] < self._every:
            return []                             # reading the model costs: every ``interval``
        snap = (int(index_stop), float(self.model.time_of(index_stop - 1)), 1.0 / self.model.rate)
        self._snaps.append(snap)
        placed = []
        for t_ev, label in self.pending:          # sorted: the covered ones come first
            i = self._index(snap, t_ev)
            if i >= snap[0]:
                break
            placed.append((i, label))
        del self.pending[:len(placed)]
        return placed

    def add(self, indexes: np.ndarray, times: np.ndarray | None,
            labels: list[bytes]) -> list[tuple[int, bytes]]:
        """Events: their own index when >= 0, else their time (else they are dropped)."""
        placed, waiting = [], []
        for k, (i, label) in enumerate(zip(indexes.tolist(), labels)):
            if i >= 0:
                placed.append((int(i), label))
                continue
            t = float(times[k]) if times is not None else float("nan")
            if not np.isfinite(t):
                self.dropped += 1
                continue
            i = self._place(t)
            if i is None:
                waiting.append((t, label))
            else:
                placed.append((i, label))
        if waiting:
            self.pending = sorted(self.pending + waiting)
            excess = len(self.pending) - self.max_pending
            if excess > 0:                          # the oldest go
                del self.pending[:excess]
                self.dropped += excess
        return placed

    def _place(self, t: float) -> int | None:
        """``t``'s index with the first snapshot that covers it (None: none does yet).
        Once a chunk covers a time the later ones do too, so the search runs back from the
        newest (a recent event costs one or two steps)."""
        snaps = self._snaps
        if not snaps or self._index(snaps[-1], t) >= snaps[-1][0]:
            return None
        k = len(snaps) - 1
        while k > 0 and self._index(snaps[k - 1], t) < snaps[k - 1][0]:
            k -= 1
        return self._index(snaps[k], t)

    def forget_before(self, index: int) -> None:
        """Drop the snapshots of chunks that ended before ``index`` (their samples are
        gone), keeping the newest one."""
        while len(self._snaps) > 1 and self._snaps[1][0] <= index:
            self._snaps.popleft()
