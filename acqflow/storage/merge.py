"""merge: the chunks of several stored streams as one time-ordered sequence.

Like stream2py's MergedStreams: ``(name, item)`` pairs ordered by time, where
each item is a stored chunk ``(stop index, data, timestamp)`` clipped to the
query interval; ties keep the order in which the streams were given.  A stream aligned
to a common clock by a sync line (:mod:`.align`) is merged in its common-clock times.
"""
from __future__ import annotations

import heapq
from typing import Iterable, Iterator

import numpy as np

from .align_model import alignment_of, common_index, model_times
from .stored import StoredStream

__all__ = ["merge"]


def _pieces(order: int, stream: StoredStream, t0: float | None, t1: float | None,
            aligned: bool = False) -> Iterator[tuple[float, int, str, int, np.ndarray]]:
    if stream.n_records == 0:
        return
    al = alignment_of(stream)
    index_at = stream.index_at if al is None else lambda t: common_index(stream, t)
    i0 = stream.first_index if t0 is None else index_at(t0)
    i1 = stream.stop_index if t1 is None else max(i0, index_at(t1))
    if i1 <= i0:
        return
    for start, data in stream.chunks(i0, i1):
        stop = start + len(data)
        if al is not None:      # the common clock: already the recorder's
            yield float(model_times(al, np.array([stop - 1.0]))[0]), order, stream.name, stop, data
            continue
        t = stream.time_at(stop - 1)
        yield (stream.to_recorder_clock(t) if aligned else t), order, stream.name, stop, data


def merge(streams: Iterable[StoredStream], t0: float | None = None, t1: float | None = None,
          aligned: bool = False) -> Iterator[tuple[str, tuple[int, np.ndarray, float]]]:
    """Yield ``(stream name, (stop index, data, time of last sample))`` in time order.

    Streams may come from different recordings; data is read lazily.  With
    ``aligned=True`` times are on the recorder's clock (each stream's stored clock
    offset applied: see ``StoredStream.to_recorder_clock``), which is what orders
    streams from several hosts correctly; ``t0``/``t1`` stay on each source's clock.
    Streams aligned by a sync line are merged (and ``t0``/``t1`` taken) on the common clock.
    """
    iters = [_pieces(k, s, t0, t1, aligned) for k, s in enumerate(streams)]
    for t, _order, name, stop, data in heapq.merge(*iters, key=lambda x: (x[0], x[1])):
        yield name, (stop, data, t)
