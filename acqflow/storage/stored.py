"""StoredStream: one stream of a recording, sliceable by absolute sample index and by time.

Indexing, gaps and sample times are :class:`.streamdata.StreamData`'s (it holds the
data methods); this class adds what is built on them (cursors, dask/xarray views),
whose modules type against StreamData, so imports point one way.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .align_model import common_times
from .cursor import StreamReader
from .dask_view import to_dask, to_xarray
from .streamdata import StreamData, default_fill

__all__ = ["StoredStream", "default_fill"]


class StoredStream(StreamData):
    """A stream of a recording: length, time range, slicing, gaps, readers, views, delete."""

    def reader(self, start: int | None = None, follow: bool = False,
               poll_interval: float = 0.02) -> StreamReader:
        """An independent cursor over this stream (many may coexist)."""
        return StreamReader(self, start, follow, poll_interval)

    def common_times(self, start: int | None = None, stop: int | None = None) -> np.ndarray:
        """Times on the common clock of a sync-line alignment (:func:`.align_model.common_times`)."""
        return common_times(self, start, stop)

    # -- analysis views (dask, xarray) ----------------------------------------------
    def to_dask(self, start: int | None = None, stop: int | None = None, fill: Any = "auto",
                chunk_bytes: int = 32 << 20, storage_options: dict[str, Any] | None = None,
                cache: Any = None) -> Any:
        """Lazy block-aligned ``dask.array`` of samples ``[start, stop)``; gaps read as
        ``fill`` (NaN for floats, 0 for integers).  See :mod:`acqflow.storage.dask_view`."""
        return to_dask(self, start, stop, fill, chunk_bytes, storage_options, cache)

    def to_xarray(self, start: int | None = None, stop: int | None = None, fill: Any = "auto",
                  chunk_bytes: int = 32 << 20, clock: str = "recorder",
                  storage_options: dict[str, Any] | None = None, cache: Any = None) -> Any:
        """Lazy ``xarray.DataArray`` (dims time, channel; time, index and channel
        coordinates) over :meth:`to_dask`.  See :mod:`acqflow.storage.dask_view`."""
        return to_xarray(self, start, stop, fill, chunk_bytes, clock, storage_options, cache)
