"""A ring buffer addressed by absolute sample index, in local or shared memory."""
from __future__ import annotations

from typing import Any, Literal, Sequence, SupportsInt, overload

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ..errors import OverrunError, StreamError
from .sharedmem import Segment, nonce_problem
from .spec import default_fill

__all__ = ["RingBuffer", "attach_output_ring"]

_HEAD, _PENDING, _START, _SIZE, _DOUBLE, _SAMPLE_BYTES = 1, 2, 3, 4, 5, 6


class RingBuffer:
    """Fixed-size ring of samples; axis 0 is time, addressed by absolute index.

    ``buf[i:j]`` reads absolute samples i..j-1 (negative = counted back from the
    head); anything outside the readable window ``[first_index(), index())`` raises
    IndexError.  Like numpy (and pyacq): ``buf[i:j:-k]`` steps backwards and
    ``buf[i:j, c]`` indexes the other axes of the result.  With ``double=True`` the
    memory holds two copies so every window is a contiguous view.
    ``shmem='create'`` (or True) puts the ring in shared memory (name in
    ``shm_id``); ``shmem=<name>`` attaches read-only to an existing one.
    """

    def __init__(self, shape: Sequence[int], dtype: DTypeLike, double: bool = True,
                 shmem: str | bool | None = None, fill: Any = None,
                 axisorder: Sequence[int] | None = None) -> None:
        shape = tuple(int(s) for s in shape)
        if not shape or shape[0] < 1:
            raise ValueError(f"ring shape must start with a positive length, got {shape}")
        self.shape = shape
        self.size = shape[0]
        self.dtype = np.dtype(dtype)
        self.double = bool(double)
        self.fill = default_fill(self.dtype) if fill is None else fill
        ndim = len(shape)
        self.axisorder = tuple(range(ndim)) if axisorder is None else tuple(axisorder)
        if sorted(self.axisorder) != list(range(ndim)):
            raise ValueError(f"axisorder {axisorder} is not a permutation of {ndim} axes")
        logical = ((2 if self.double else 1) * self.size,) + shape[1:]
        memory_shape = tuple(logical[a] for a in self.axisorder)
        sample_bytes = int(np.prod(shape[1:], dtype=np.int64)) * self.dtype.itemsize
        self._segment: Segment | None = None
        if shmem is True:
            shmem = "create"
        elif shmem is False:             # (pyacq's flag: False is local memory, as None)
            shmem = None
        # ring state words (memoryviews: scalar access per chunk costs a third of numpy's)
        if shmem is None:
            self._meta = memoryview(bytearray(64)).cast("q")
        elif shmem == "create":
            self._segment = Segment.create(int(np.prod(memory_shape)) * self.dtype.itemsize)
            self._meta = self._segment.words
        else:
            self._segment = Segment.attach(shmem)
            self._meta = self._segment.words
            found = (int(self._meta[_SIZE]), bool(self._meta[_DOUBLE]), int(self._meta[_SAMPLE_BYTES]))
            if found != (self.size, self.double, sample_bytes):
                self._segment.close()
                raise ValueError(f"shared ring {shmem!r} has (size, double, bytes/sample)={found}, "
                                 f"expected {(self.size, self.double, sample_bytes)}")
        if shmem is None or shmem == "create":
            self._meta[_SIZE], self._meta[_DOUBLE] = self.size, int(self.double)
            self._meta[_SAMPLE_BYTES] = sample_bytes
        if shmem is None:
            raw = np.empty(memory_shape, self.dtype)
        else:
            assert self._segment is not None
            raw = np.ndarray(memory_shape, self.dtype, buffer=self._segment.data)
        self._buffer = raw.transpose(np.argsort(self.axisorder))
        self.writable = shmem is None or shmem == "create"
        if not self.writable:
            self._buffer.flags.writeable = False

    # -- state ---------------------------------------------------------------
    @property
    def shm_id(self) -> str | None:
        """Name of the shared-memory segment, or None for a local ring."""
        return None if self._segment is None else self._segment.name

    @property
    def segment(self) -> Segment | None:
        """The shared-memory segment holding the ring, or None for a ring in local memory."""
        return self._segment

    def index(self) -> int:
        """Absolute index one past the newest written sample."""
        return self._meta[_HEAD]

    def first_index(self) -> int:
        """Absolute index of the oldest sample still readable (writes in progress count)."""
        meta = self._meta
        return max(meta[_START], meta[_PENDING] - self.size)

    def reset_index(self, index: int) -> None:
        """Start an empty ring at absolute ``index`` (nothing before it is readable)."""
        self._meta[_HEAD] = self._meta[_PENDING] = self._meta[_START] = int(index)

    # -- writing -------------------------------------------------------------
    def new_chunk(self, data: ArrayLike, index: int | None = None) -> None:
        """Append ``data``; ``index`` is the absolute count after it (default: head+len).

        A jump forward leaves a gap filled with ``fill``; going backwards is refused.
        """
        if not self.writable:
            raise PermissionError("this ring is attached read-only; only its creator writes")
        data = np.asarray(data)
        if data.dtype != self.dtype:
            raise TypeError(f"chunk dtype {data.dtype} does not match ring dtype {self.dtype}")
        if data.shape[1:] != self.shape[1:]:
            raise ValueError(f"chunk shape {data.shape} does not match ring sample shape "
                             f"{self.shape[1:]} (time axis first)")
        if data.shape[0] > self.size:
            raise ValueError(f"chunk of {data.shape[0]} samples is longer than the ring ({self.size})")
        self.append(data, index)

    def append(self, data: np.ndarray, index: int | None = None) -> None:
        """new_chunk() for a caller that already checked dtype, sample shape and length
        (an OutputStream: its per-chunk path)."""
        meta = self._meta
        head = meta[_HEAD]
        n = data.shape[0]
        index = head + n if index is None else int(index)
        start = index - n
        if start < head:
            raise ValueError(f"chunk ending at index {index} overlaps data already written "
                             f"(head is {head})")
        if head == meta[_START] and start > head:
            meta[_START] = start        # nothing written yet: no gap to fill
            head = start
        meta[_PENDING] = index
        fill_from = max(head, index - self.size)
        if fill_from < start:
            self._write(fill_from, np.full((start - fill_from,) + self.shape[1:], self.fill, self.dtype))
        if n:
            self._write(start, data)
        meta[_HEAD] = index

    def _write(self, start: int, data: np.ndarray) -> None:
        size, n = self.size, data.shape[0]
        p = start % size
        buf = self._buffer
        if self.double:
            buf[p:p + n] = data
            first = min(n, size - p)
            buf[p + size:p + size + first] = data[:first]
            if n > first:
                buf[:n - first] = data[first:]
        elif p + n <= size:
            buf[p:p + n] = data
        else:
            first = size - p
            buf[p:] = data[:first]
            buf[:n - first] = data[first:]

    # -- reading -------------------------------------------------------------
    def _bounds(self, start: SupportsInt | None, stop: SupportsInt | None) -> tuple[int, int]:
        """Absolute [start, stop) (None: the window's end; negative: back from the head),
        checked against the readable window.  Inlined: it runs for every chunk read."""
        head = self._meta[_HEAD]
        first = self.first_index()       # (a method: pyacq's ring widens the window)
        if start is None:
            start = first
        elif (start := int(start)) < 0:          # counted back from the head
            start += head
        if stop is None:
            stop = head
        elif (stop := int(stop)) < 0:
            stop += head
        if first <= start <= stop <= head:
            return start, stop
        return self._in_window(start, stop, first, head)      # (raises)

    def _in_window(self, start: int, stop: int, first: int, head: int) -> tuple[int, int]:
        """Absolute [start, stop) checked against the readable window [first, head)."""
        if start < first and start <= stop <= head and self._segment is not None:
            raise OverrunError(f"samples [{start}:{stop}] were overwritten (readable window is "
                               f"[{first}:{head}])")
        if start < first or stop > head or start > stop:
            raise IndexError(f"samples [{start}:{stop}] are outside the readable window "
                             f"[{first}:{head}]")
        return start, stop

    @staticmethod
    def _absolute(i: SupportsInt, head: int) -> int:
        i = int(i)
        return i + head if i < 0 else i

    def __getitem__(self, key: Any) -> np.ndarray:
        if type(key) is slice and key.step is None:      # ring[i:j]: every chunk a reader views
            start, stop = self._bounds(key.start, key.stop)
            return self._view(start, stop)
        rest = None
        if isinstance(key, tuple):
            key, rest = key[0], key[1:]
        if isinstance(key, (int, np.integer)):
            i = self._absolute(key, self.index())
            self._bounds(i, i + 1)
            out = self._buffer[i % self.size]
            return out[rest] if rest else out
        if not isinstance(key, slice):
            raise TypeError(f"ring indices must be ints or slices, not {type(key).__name__}")
        step = 1 if key.step is None else int(key.step)
        if step == 0:
            raise ValueError("slice step cannot be zero")
        start, stop = key.start, key.stop
        if step < 0:            # read [stop+1, start+1) forwards, then step backwards (numpy's order)
            head, first = self.index(), self.first_index()
            lo = first if stop is None else self._absolute(stop, head) + 1
            hi = head if start is None else self._absolute(start, head) + 1
            start, stop = self._in_window(lo, hi, first, head)   # absolute already: no re-reading
        else:
            start, stop = self._bounds(start, stop)
        out = self._view(start, stop)
        if step != 1:
            out = out[::step]
        return out[(slice(None),) + rest] if rest else out

    def _pieces(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray | None]:
        """[start, stop) as one view, or as two views (before and after the ring's end)."""
        p, n = start % self.size, stop - start
        if self.double or p + n <= self.size:
            return self._buffer[p:p + n], None
        return self._buffer[p:], self._buffer[:n - (self.size - p)]

    def _view(self, start: int, stop: int) -> np.ndarray:
        size = self.size
        p = start % size
        if self.double or p + stop - start <= size:        # one piece (_pieces, inlined)
            return self._buffer[p:p + stop - start]
        a, b = self._pieces(start, stop)
        assert b is not None
        # joined in the ring's memory order, so axisorder's contiguous axis stays contiguous
        logical = (stop - start,) + self.shape[1:]
        out = np.empty(tuple(logical[k] for k in self.axisorder), self.dtype)
        out = out.transpose(np.argsort(self.axisorder))
        out[:len(a)] = a
        out[len(a):] = b
        return out

    @overload
    def get_data(self, start: SupportsInt | None, stop: SupportsInt | None, copy: bool = False,
                 join: Literal[True] = True) -> np.ndarray: ...
    @overload
    def get_data(self, start: SupportsInt | None, stop: SupportsInt | None, copy: bool = False, *,
                 join: Literal[False]) -> tuple[np.ndarray, np.ndarray]: ...
    @overload
    def get_data(self, start: SupportsInt | None, stop: SupportsInt | None, copy: bool = False,
                 join: bool = True) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...

    def get_data(self, start: SupportsInt | None, stop: SupportsInt | None, copy: bool = False,
                 join: bool = True) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Samples [start, stop) as a view when possible (``copy=True`` for a safe copy).

        ``join=False`` returns two arrays, the part before and the part after the
        ring's end (the second empty when the range does not wrap), never copying.
        """
        start, stop = self._bounds(start, stop)
        if join:
            out = self._view(start, stop)
            return out.copy() if copy and out.base is not None else out
        a, b = self._pieces(start, stop)
        if b is None:
            b = a[:0]
        return (a.copy(), b.copy()) if copy else (a, b)

    def read(self, start: int, stop: int) -> np.ndarray:
        """A copy of [start, stop), checked after copying against concurrent writes.

        Raises OverrunError when the writer overwrote (part of) the range, so torn
        or stale data is never returned as valid.
        """
        self._in_window(start, stop, self.first_index(), self._meta[_HEAD])
        p, n = start % self.size, stop - start
        if self.double or p + n <= self.size:
            data = np.array(self._buffer[p:p + n], copy=True)
        else:
            data = self._view(start, stop)           # joined: a copy already
        if start < self.first_index():
            raise OverrunError(f"samples [{start}:{stop}] were overwritten while being read "
                               f"(readable window now starts at {self.first_index()})")
        return data

    def close(self) -> None:
        """Release the shared segment (the creator also unlinks it)."""
        if self._segment is not None:
            del self._buffer             # (used after close: AttributeError)
            self._meta = memoryview(bytearray(self._meta[:8].tobytes())).cast("q")
            self._segment.close()
            self._segment = None

    def __repr__(self) -> str:
        where = f" shm={self.shm_id}" if self._segment else ""
        return (f"<RingBuffer shape={self.shape} dtype={self.dtype} "
                f"window=[{self.first_index()}:{self.index()}]{where}>")


def attach_output_ring(params: dict, dtype: np.dtype, label: str) -> RingBuffer:
    """Attach (read-only) the shared ring of the output whose ``params`` are given, proving
    it is that output's (nonce check); StreamError starting with ``label`` otherwise."""
    name, hint = params["shm_name"], ("sharedmem only works when both ends share a machine; "
                                      "configure the output with transfermode='plaindata'")
    if params.get("shape") is None:      # (an output's sharedmem params always have one)
        raise StreamError(f"{label}: sharedmem params without a shape (shape=None); "
                          f"a sharedmem output always has one")
    try:
        ring = RingBuffer((params["buffer_size"],) + tuple(params["shape"])[1:], dtype,
                          double=params["double"], shmem=name, axisorder=params["axisorder"])
    except FileNotFoundError as exc:
        raise StreamError(f"{label}: cannot attach shared memory segment {name!r} "
                          f"({exc}); {hint}") from None
    assert ring.segment is not None      # (attached: always in shared memory)
    problem = nonce_problem(ring.segment, params.get("shm_nonce"))
    if problem is not None:
        ring.close()
        raise StreamError(f"{label}: {problem}; {hint}")
    return ring
