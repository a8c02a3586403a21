"""Size-capped local LRU cache of immutable remote byte ranges (one file per entry).

Modelled on FiftyOne's media cache: a cache directory, a maximum size, least
recently used entries evicted first, and hit/miss/eviction counters.  Entries
are written via temp file + rename, so several processes may share a directory;
recency is kept in file mtimes so it survives restarts.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

__all__ = ["LocalCache", "default_cache_dir"]

DEFAULT_MAX_BYTES = 4 << 30


def default_cache_dir() -> Path:
    """``$ACQFLOW_CACHE_DIR`` or ``~/.cache/acqflow/storage``."""
    env = os.environ.get("ACQFLOW_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "acqflow" / "storage"


class LocalCache:
    """LRU cache of byte strings keyed by str, capped at ``max_bytes`` on disk."""

    def __init__(self, cache_dir: str | os.PathLike | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES):
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = int(max_bytes)
        self.hits = self.misses = self.evictions = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, int] = OrderedDict()  # file name -> size, LRU first
        self._size = 0
        found = []
        for p in self.cache_dir.iterdir():
            if p.is_file() and not p.name.startswith("."):
                st = p.stat()
                found.append((st.st_mtime, p.name, st.st_size))
        for _mtime, name, size in sorted(found):
            self._entries[name] = size
            self._size += size
        with self._lock:
            self._evict()

    @staticmethod
    def _name(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def current_size(self) -> int:
        """Bytes currently held."""
        return self._size

    def __contains__(self, key: str) -> bool:
        return self._name(key) in self._entries

    def get(self, key: str) -> bytes | None:
        """Cached bytes for ``key`` (refreshing its recency) or None (a miss)."""
        name = self._name(key)
        path = self.cache_dir / name
        with self._lock:
            if name in self._entries:
                try:
                    data = path.read_bytes()
                    os.utime(path)
                except FileNotFoundError:  # evicted by another process
                    self._size -= self._entries.pop(name)
                else:
                    self._entries.move_to_end(name)
                    self.hits += 1
                    return data
            self.misses += 1
            return None

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` and evict LRU entries beyond the cap."""
        if len(data) > self.max_bytes:
            return
        name = self._name(key)
        path = self.cache_dir / name
        tmp = self.cache_dir / f".{name}.{os.getpid()}.{threading.get_ident()}"
        tmp.write_bytes(data)
        os.replace(tmp, path)
        with self._lock:
            if name in self._entries:
                self._size -= self._entries.pop(name)
            self._entries[name] = len(data)
            self._size += len(data)
            self._evict()

    def discard(self, key: str) -> None:
        """Remove ``key`` if cached (not counted as an eviction)."""
        name = self._name(key)
        with self._lock:
            if name in self._entries:
                self._size -= self._entries.pop(name)
                try:
                    (self.cache_dir / name).unlink()
                except FileNotFoundError:
                    pass

    def _evict(self) -> None:
        while self._size > self.max_bytes and self._entries:
            name, size = self._entries.popitem(last=False)
            self._size -= size
            self.evictions += 1
            try:
                (self.cache_dir / name).unlink()
            except FileNotFoundError:
                pass

    def clear(self) -> None:
        """Delete every cached entry."""
        with self._lock:
            for name in list(self._entries):
                try:
                    (self.cache_dir / name).unlink()
                except FileNotFoundError:
                    pass
            self._entries.clear()
            self._size = 0

    def stats(self) -> dict[str, Any]:
        """Cache directory, cap, current size, entry count and counters."""
        return {"cache_dir": str(self.cache_dir), "max_bytes": self.max_bytes,
                "current_size": self._size, "entries": len(self._entries),
                "hits": self.hits, "misses": self.misses, "evictions": self.evictions}
