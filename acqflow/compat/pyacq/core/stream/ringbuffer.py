"""pyacq.core.stream.ringbuffer: acqflow's RingBuffer with pyacq's window.

The only difference kept for pyacq: its readable window is always the last
``size`` samples, and samples never written (before the first one) read as the
fill value; acqflow's own RingBuffer raises IndexError for them instead.
"""
from __future__ import annotations

from acqflow.dataflow.streams.ringbuffer import RingBuffer as _RingBuffer
from acqflow.dataflow.streams.ringbuffer import _PENDING

__all__ = ["RingBuffer"]


class RingBuffer(_RingBuffer):
    """acqflow's RingBuffer whose window ``[index() - size, index())`` is always readable."""

    def __init__(self, shape, dtype, double=True, shmem=None, fill=None, axisorder=None):
        super().__init__(shape, dtype, double=double, shmem=shmem, fill=fill, axisorder=axisorder)
        if self.writable:
            self._buffer[...] = self.fill

    def first_index(self) -> int:
        # pending, not head: a write in progress already makes its oldest samples unreadable
        return int(self._meta[_PENDING]) - self.size
