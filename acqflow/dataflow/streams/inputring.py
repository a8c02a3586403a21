"""An input's buffered access (mixed into InputStream): samples by absolute index from its
own ring (``set_buffer``) or the shared one (sharedmem)."""
from __future__ import annotations

from typing import Any, Literal, overload

import numpy as np

from ..errors import StreamError
from .ringbuffer import RingBuffer

__all__ = ["RingAccess"]


class RingAccess:
    """``get_data``, ``input[i:j]``, ``get_array_slice`` and ``buffer`` over the input's ring."""

    _buffer: RingBuffer | None = None     # its own ring (set_buffer)
    _shm: RingBuffer | None = None        # the output's shared ring (sharedmem)

    def _ring(self) -> RingBuffer:
        if self._buffer is not None:
            return self._buffer
        if self._shm is not None:
            return self._shm
        raise StreamError("no buffer: call set_buffer(size) first (plaindata streams)")

    @overload
    def get_data(self, start: int, stop: int, copy: bool = False,
                 join: Literal[True] = True) -> np.ndarray: ...
    @overload
    def get_data(self, start: int, stop: int, copy: bool = False, *,
                 join: Literal[False]) -> tuple[np.ndarray, np.ndarray]: ...
    @overload
    def get_data(self, start: int, stop: int, copy: bool = False,
                 join: bool = True) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...

    def get_data(self, start: int, stop: int, copy: bool = False,
                 join: bool = True) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Samples [start, stop) by absolute index, from the local or shared ring
        (see :meth:`RingBuffer.get_data`)."""
        return self._ring().get_data(start, stop, copy=copy, join=join)

    def __getitem__(self, key: Any) -> np.ndarray:
        """``input[i:j]`` (and any RingBuffer index) on the local or shared ring."""
        return self._ring()[key]

    def get_array_slice(self, index: int, length: int) -> np.ndarray:
        """The ``length`` samples that end at absolute ``index`` (zero-copy when possible)."""
        ring = self._buffer if self._buffer is not None else self._shm   # (_ring(), inlined)
        if ring is None:
            ring = self._ring()              # (raises)
        return ring[index - length:index]

    @property
    def buffer(self) -> RingBuffer | None:
        """The ring this input reads (its own, from set_buffer(), or the shared one); None before either."""
        return self._buffer if self._buffer is not None else self._shm
