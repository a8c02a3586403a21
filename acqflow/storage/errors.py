"""Exceptions raised by acqflow.storage (all subclass StorageError)."""
from __future__ import annotations

from ..errors import Error

__all__ = ["StorageError", "RecordingExistsError", "NotARecordingError", "GapError",
           "DamagedBlockError", "WriterError", "DamagedManifestError"]


class StorageError(Error):
    """Base class of every storage error."""


class RecordingExistsError(StorageError, FileExistsError):
    """Creating a recording where one exists without mode='overwrite' or 'append'."""


class NotARecordingError(StorageError, FileNotFoundError):
    """The URL holds no readable manifest.json."""


class GapError(StorageError, LookupError):
    """A read range covers samples that were never recorded; ``gaps`` lists them."""

    def __init__(self, message: str, gaps: list[tuple[int, int]]):
        super().__init__(message)
        self.gaps = gaps


class DamagedBlockError(StorageError, IOError):
    """A block failed its CRC (or is missing) while being read; no data is returned."""


class WriterError(StorageError):
    """The writer thread failed (disk full, permission...); raised on the caller side."""


class DamagedManifestError(NotARecordingError):
    """manifest.json fails its checksum or its structure: its streams' layout cannot be
    trusted (see ``acqflow rec verify`` for what the blocks still show)."""
