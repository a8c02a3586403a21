"""pyacq.core.stream.sharedarray on :mod:`multiprocessing.shared_memory`.

``SharedMem(nbytes, shm_id=None)`` creates (or attaches to ``shm_id``) a named
segment; ``to_numpy(offset, dtype, shape)`` views it, writable for its creator and
read-only for others, as in pyacq.  ``SharedArray(shape, dtype, shm_id=None)`` is
one array in one segment, passed to other processes with ``to_dict()``.  The
creator unlinks the segment on ``close()`` or when it is garbage-collected.
"""
from __future__ import annotations

from multiprocessing import shared_memory

import numpy as np

from acqflow.dataflow.streams.sharedmem import open_shared, release_shared
from acqflow.dataflow.streams.spec import dtype_to_spec, make_dtype

__all__ = ["SharedMem", "SharedArray"]


class SharedMem:
    """A shared memory buffer of ``nbytes`` bytes, created or attached by ``shm_id``."""

    def __init__(self, nbytes: int, shm_id: str | None = None):
        self.nbytes = int(nbytes)
        self._owner = shm_id is None
        self._shm: shared_memory.SharedMemory | None = open_shared(shm_id, max(1, self.nbytes))
        self.shm_id = self._shm.name

    @property
    def mmap(self) -> memoryview:
        """The mapped bytes (pyacq's name)."""
        assert self._shm is not None and self._shm.buf is not None, "SharedMem is closed"
        return self._shm.buf

    def to_dict(self) -> dict:
        """What another process passes to ``SharedMem(**d)`` to attach."""
        return {"nbytes": self.nbytes, "shm_id": self.shm_id}

    def to_numpy(self, offset, dtype, shape, strides=None) -> np.ndarray:
        """A view of part of the buffer (read-only unless this process created it)."""
        arr = np.ndarray(buffer=self.mmap, shape=shape, strides=strides, offset=offset,
                         dtype=dtype)
        if not self._owner:
            arr.flags.writeable = False
        return arr

    def close(self) -> None:
        """Detach; the creator also removes the segment."""
        shm, self._shm = self._shm, None
        if shm is not None:
            release_shared(shm, self._owner)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class SharedArray:
    """A numpy array in shared memory; ``SharedArray(**a.to_dict())`` attaches to it."""

    def __init__(self, shape=(1,), dtype="float64", shm_id: str | None = None):
        self.shape = tuple(np.atleast_1d(shape).tolist())
        self.dtype = make_dtype(dtype)
        self.shmem = SharedMem(int(np.prod(self.shape)) * self.dtype.itemsize, shm_id)

    def to_dict(self) -> dict:
        """Plain values (dtype as '<i4' or a descr list: pyacq gave a numpy dtype, which
        acqflow's RPC does not send), for ``SharedArray(**d)`` in another process."""
        return {"shape": self.shape, "dtype": dtype_to_spec(self.dtype), "shm_id": self.shmem.shm_id}

    def to_numpy(self) -> np.ndarray:
        return self.shmem.to_numpy(0, self.dtype, self.shape)

    def close(self) -> None:
        self.shmem.close()
