"""acqflow.storage: crash-safe recordings of streams, stored-stream reading, remote cache.

Layout and guarantees: docs/recording.md.  Layering: imports only numpy, msgpack,
fsspec and acqflow.dataflow helpers; OpenCV is imported only by video codecs.
"""
from .backends import upload
from .cache import LocalCache, default_cache
from .cacheconfig import CacheConfig, CacheConfigError, load_cache_config
from .cursor import StreamReader
from .epochs import cut_epochs
from .errors import (DamagedBlockError, GapError, NotARecordingError, RecordingExistsError,
                     StorageError, WriterError)
from .index import Damage
from .export import to_csv, to_npy, to_wav
from .external import ExternalFileChangedError, import_media
from .merge import merge
from .prefetch import Prefetch
from .reader import Recording, delete_recording, open_recording
from .segments import rebuild_index
from .stored import StoredStream
from .writer import RecordingWriter

__all__ = ["RecordingWriter", "Recording", "StoredStream", "StreamReader", "open_recording",
           "delete_recording", "merge", "upload", "rebuild_index", "to_npy", "to_csv", "to_wav",
           "LocalCache", "default_cache", "CacheConfig", "CacheConfigError",
           "load_cache_config", "Prefetch", "import_media", "ExternalFileChangedError", "Damage", "StorageError",
           "RecordingExistsError", "NotARecordingError", "GapError", "DamagedBlockError",
           "WriterError", "cut_epochs"]
