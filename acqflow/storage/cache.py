"""Size-capped local LRU cache of immutable remote byte ranges, shareable by processes.

Modelled on FiftyOne's media cache: a cache directory (default ``~/.cache/acqflow``),
a size cap (default 32 GiB), least recently used entries evicted first, settings
from environment variables or a JSON file (:mod:`.cacheconfig`).

One file per entry, named by the SHA-256 of its key, holding a small header with
a BLAKE2b digest of the content: an entry that does not match its digest (torn by
a power loss, damaged on disk) is deleted and reported as a miss, never returned.
Entries are written to a temp file and renamed in.  Recency is the file's mtime
(touched on every hit), so it is shared by processes and survives restarts.

Several processes (and threads) may share one directory: every change of the
directory (rename in, eviction, removal) happens under an exclusive ``flock`` on
``.lock``, which also stores the total size and entry count.  Eviction rescans the
directory (so entries added or evicted by other processes are counted from disk)
and removes the least recently used entries down to 90 % of the cap.  Only files
named like entries are ever counted or deleted, so the directory may hold others.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import struct
import threading
import time
from pathlib import Path
from typing import Any

from acqflow.dataflow.paramcheck import must_be

from .cacheconfig import (DEFAULT_SIZE_BYTES, CacheConfig, CacheConfigError,
                          default_cache_dir, load_cache_config)
from .stats import CacheStats

__all__ = ["LocalCache", "default_cache", "default_cache_dir", "DEFAULT_MAX_BYTES",
           "CacheConfigError"]

DEFAULT_MAX_BYTES = DEFAULT_SIZE_BYTES
LOW_WATER = 0.9                         # eviction goes down to this fraction of the cap
_MAGIC = b"AFC1"
_HEADER = len(_MAGIC) + 16              # magic + blake2b-128 digest of the content
_ENTRY = re.compile(r"[0-9a-f]{64}")
_STATE = struct.Struct("<qq")           # total bytes, entry count (in .lock)
_STALE_TMP_S = 600.0


def _digest(data: bytes | memoryview) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


class LocalCache:
    """LRU cache of byte strings keyed by str, capped at ``max_bytes`` on disk.

    ``cache_dir`` / ``max_bytes`` default to the resolved cache config
    (``ACQFLOW_CACHE_DIR``, ``ACQFLOW_CACHE_SIZE_BYTES``, JSON file, else
    ``~/.cache/acqflow`` and 32 GiB).  Sizes count whole entry files (content + a
    20-byte header).
    """

    def __init__(self, cache_dir: str | os.PathLike | None = None,
                 max_bytes: int | None = None):
        if cache_dir is None or max_bytes is None:
            config = load_cache_config()
            if max_bytes is None:
                if not config.enabled:
                    raise CacheConfigError(f"the local cache is disabled (size -1, from "
                                           f"{config.source}); pass max_bytes= to use one")
                max_bytes = config.size_bytes
            cache_dir = config.cache_dir if cache_dir is None else cache_dir
        if isinstance(max_bytes, bool) or int(max_bytes) < 0:
            must_be("max_bytes", ">= 0 (a size of -1 in the cache config disables the cache instead)",
                    max_bytes)
        self.cache_dir = Path(cache_dir).expanduser()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = int(max_bytes)
        self.hits = self.misses = self.evictions = self.corrupt = 0
        self._tlock = threading.Lock()
        self._fd = os.open(self.cache_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        with self._locked():
            self._rescan(clean_tmp=True)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def __repr__(self) -> str:
        return f"<LocalCache {self.cache_dir} {self.current_size}/{self.max_bytes} B>"

    # -- shared state (call with the lock held) -------------------------------------
    class _Held:
        def __init__(self, cache: "LocalCache"):
            self.cache = cache

        def __enter__(self) -> None:
            self.cache._tlock.acquire()
            fcntl.flock(self.cache._fd, fcntl.LOCK_EX)

        def __exit__(self, *exc: Any) -> None:
            fcntl.flock(self.cache._fd, fcntl.LOCK_UN)
            self.cache._tlock.release()

    def _locked(self) -> "LocalCache._Held":
        return LocalCache._Held(self)

    def _state(self) -> tuple[int, int]:
        raw = os.pread(self._fd, _STATE.size, 0)
        return _STATE.unpack(raw) if len(raw) == _STATE.size else (0, 0)

    def _set_state(self, size: int, count: int) -> None:
        os.pwrite(self._fd, _STATE.pack(max(0, size), max(0, count)), 0)

    def _scan(self) -> list[tuple[int, str, int]]:
        """``(mtime_ns, name, size)`` of every entry file on disk, oldest first."""
        found = []
        for e in os.scandir(self.cache_dir):
            if _ENTRY.fullmatch(e.name):
                try:
                    st = e.stat()
                except FileNotFoundError:
                    continue
                found.append((st.st_mtime_ns, e.name, st.st_size))
        found.sort()
        return found

    def _rescan(self, clean_tmp: bool = False) -> list[tuple[int, str, int]]:
        """Recount size and entries from disk (other processes may have changed them)."""
        if clean_tmp:   # temp files left by killed writers
            now = time.time()
            for e in os.scandir(self.cache_dir):
                if e.name.startswith(".tmp-"):
                    try:
                        if now - e.stat().st_mtime > _STALE_TMP_S:
                            os.unlink(e.path)
                    except FileNotFoundError:
                        pass
        found = self._scan()
        self._set_state(sum(f[2] for f in found), len(found))
        return found

    def _evict(self) -> None:
        size, _count = self._state()
        if size <= self.max_bytes:
            return
        found = self._rescan()
        size = sum(f[2] for f in found)
        target = int(self.max_bytes * LOW_WATER) if size > self.max_bytes else size
        count = len(found)
        for _mtime, name, nbytes in found:
            if size <= target:
                break
            try:
                os.unlink(self.cache_dir / name)
            except FileNotFoundError:
                pass
            size -= nbytes
            count -= 1
            self.evictions += 1
        self._set_state(size, count)

    # -- public API -------------------------------------------------------------------
    @staticmethod
    def _name(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def current_size(self) -> int:
        """Bytes currently held on disk (by every process sharing the directory)."""
        with self._locked():
            return self._state()[0]

    def __contains__(self, key: str) -> bool:
        return (self.cache_dir / self._name(key)).is_file()

    def get(self, key: str) -> bytes | None:
        """Cached bytes for ``key`` (refreshing its recency) or None (a miss).

        An entry failing its digest is deleted and counted in ``corrupt``.
        """
        path = self.cache_dir / self._name(key)
        try:
            with open(path, "rb") as f:
                raw = f.read()
                ino = os.fstat(f.fileno()).st_ino
        except FileNotFoundError:   # never cached, or evicted (maybe by another process)
            with self._tlock:
                self.misses += 1
            return None
        view = memoryview(raw)
        if len(raw) < _HEADER or raw[:4] != _MAGIC or _digest(view[_HEADER:]) != raw[4:_HEADER]:
            self._drop_corrupt(path, ino)
            return None
        try:
            os.utime(path)
        except FileNotFoundError:
            pass
        with self._tlock:
            self.hits += 1
        return raw[_HEADER:]

    def _drop_corrupt(self, path: Path, ino: int) -> None:
        with self._locked():
            self.corrupt += 1
            self.misses += 1
            try:
                if os.stat(path).st_ino == ino:   # not already replaced by a good copy
                    os.unlink(path)
            except FileNotFoundError:
                pass
            self._rescan()

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``; evict LRU entries when over the cap."""
        if len(data) + _HEADER > self.max_bytes:
            return
        path = self.cache_dir / self._name(key)
        tmp = self.cache_dir / f".tmp-{path.name}.{os.getpid()}.{threading.get_ident()}"
        with open(tmp, "wb") as f:
            f.write(_MAGIC + _digest(data))
            f.write(data)
        new = len(data) + _HEADER
        with self._locked():
            try:
                old: int | None = os.stat(path).st_size
            except FileNotFoundError:
                old = None
            os.replace(tmp, path)
            size, count = self._state()
            self._set_state(size + new - (old or 0), count + (old is None))
            self._evict()

    def discard(self, key: str) -> None:
        """Remove ``key`` if cached (not counted as an eviction)."""
        path = self.cache_dir / self._name(key)
        with self._locked():
            try:
                nbytes = os.stat(path).st_size
                os.unlink(path)
            except FileNotFoundError:
                return
            size, count = self._state()
            self._set_state(size - nbytes, count - 1)

    def clear(self) -> None:
        """Delete every cached entry (of every process; other files are left alone)."""
        with self._locked():
            for _mtime, name, _size in self._scan():
                try:
                    os.unlink(self.cache_dir / name)
                except FileNotFoundError:
                    pass
            self._set_state(0, 0)

    def stats(self) -> CacheStats:
        """Directory, size cap, current size, entry count, load factor and this
        process's hit/miss/eviction/corrupt counters."""
        with self._locked():
            size, count = self._state()
        return CacheStats(cache_dir=str(self.cache_dir), max_bytes=self.max_bytes,
                          current_size=size, entries=count,
                          load_factor=size / self.max_bytes if self.max_bytes else 0.0,
                          hits=self.hits, misses=self.misses, evictions=self.evictions,
                          corrupt=self.corrupt)


_DEFAULTS: dict[tuple[str, int], LocalCache] = {}
_DEFAULTS_LOCK = threading.Lock()


def default_cache(config: CacheConfig | None = None) -> LocalCache | None:
    """The process-wide cache of the resolved config (None when it is disabled).

    One LocalCache per (dir, size), so counters accumulate across recordings.
    """
    config = config or load_cache_config()
    if not config.enabled:
        return None
    key = (str(config.cache_dir), config.size_bytes)
    with _DEFAULTS_LOCK:
        cache = _DEFAULTS.get(key)
        if cache is None:
            cache = _DEFAULTS[key] = LocalCache(config.cache_dir, config.size_bytes)
        return cache
