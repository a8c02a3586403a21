"""Where recording files live: a local directory or any fsspec URL (s3://, memory://...).

Readers only need ranged reads, listings and sizes; remote ranges of sealed
blocks are immutable, so they go through the optional :class:`LocalCache`.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import shutil
import socket
import threading
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from .cache import LocalCache
from .errors import StorageError
from .manifest import INDEX, MANIFEST, SEGMENTS, segment_number

__all__ = ["Backend", "LocalBackend", "FsspecBackend", "make_backend", "is_local",
           "local_path", "upload", "fsync_dir", "write_atomic", "lock_writer", "lock_owner",
           "write_owner",
           "is_being_written",
           "rename_new", "replace_dir"]

LOCK = ".writer.lock"


def _fsspec() -> ModuleType:
    """fsspec, imported on first remote use; ImportError names the extra when missing."""
    try:
        import fsspec
    except ImportError as exc:
        raise ImportError("remote recordings (URLs) need fsspec: pip install acqflow[storage] "
                          f"({exc})") from exc
    return fsspec


def is_local(url: str | os.PathLike) -> bool:
    """True for plain paths and file:// URLs."""
    s = os.fspath(url)
    return "://" not in s or s.startswith("file://")


def local_path(url: str | os.PathLike) -> Path:
    """Filesystem path of a local URL."""
    s = os.fspath(url)
    return Path(s[len("file://"):] if s.startswith("file://") else s)


def fsync_dir(path: Path) -> None:
    """fsync a directory so renames/creations inside it are durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``path`` via a temp file, fsync, rename (readers see old or new, never half)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        if durable:
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if durable:
        fsync_dir(path.parent)


def lock_writer(root: Path, owner: bool = True) -> int | None:
    """Take the recording's exclusive writer lock (flock; freed even on SIGKILL).

    Returns the lock's file descriptor, or None when another writer holds it.  ``owner``:
    write this process's pid and host into the lock file (read by :func:`lock_owner`).
    """
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    if owner:
        write_owner(fd)
    return fd


def write_owner(fd: int) -> None:
    """Write this process's pid and host into a held lock file (read by :func:`lock_owner`)."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode(), 0)


def lock_owner(root: Path) -> dict[str, Any] | None:
    """``{'pid', 'host'}`` of the live writer holding the recording's lock (values None
    when it did not say, or names a process of this host that is gone), None when no
    writer holds it."""
    if not is_being_written(root):
        return None
    try:
        info = json.loads((root / LOCK).read_bytes() or b"{}")
    except (OSError, ValueError):
        info = {}
    info = info if isinstance(info, dict) else {}
    pid, host = info.get("pid"), info.get("host")
    if not isinstance(pid, int) or (host == socket.gethostname() and not _alive(pid)):
        return {"pid": None, "host": None}      # an earlier writer's, not the holder's
    return {"pid": pid, "host": host}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0
    return True


_AT_FDCWD, _RENAME_NOREPLACE, _RENAME_EXCHANGE = -100, 1, 2


def _renameat2(src: Path, dst: Path, flags: int) -> bool:
    """Linux renameat2(); False where the C library or the filesystem lacks it."""
    fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL):
        return False
    raise OSError(err, os.strerror(err), str(src), None, str(dst))


def rename_new(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst`` only if nothing is at ``dst`` (FileExistsError otherwise)."""
    if _renameat2(src, dst, _RENAME_NOREPLACE):
        return
    if os.path.lexists(dst):      # no atomic no-replace rename here: check, then rename
        raise FileExistsError(errno.EEXIST, "exists", str(dst))
    os.rename(src, dst)


def replace_dir(new: Path, root: Path) -> Path | None:
    """Put directory ``new`` at ``root``; returns where what was at ``root`` is now (for
    the caller to remove), None when nothing was there.  Atomic where the filesystem
    can exchange two names; else ``root`` is briefly absent, never lost."""
    if not os.path.lexists(root):
        rename_new(new, root)
        return None
    old = root.with_name(f".{root.name}.replaced-{uuid.uuid4().hex[:12]}")
    if _renameat2(new, root, _RENAME_EXCHANGE):
        os.rename(new, old)         # named for what it is, should its removal be cut short
        return old
    os.rename(root, old)
    try:
        os.rename(new, root)
    except OSError:
        os.rename(old, root)
        raise
    return old


def is_being_written(root: Path) -> bool:
    """True when a live writer holds the recording's lock."""
    if not (root / LOCK).exists():
        return False
    fd = lock_writer(root, owner=False)
    if fd is None:
        return True
    os.close(fd)
    return False


class Backend:
    """Read-side access to the files of one recording."""

    url: str
    namespace: str = ""
    # Remote reads fetch a stream's whole byte range in a block (one request, cached);
    # local reads pread just the records needed (the OS page cache does the caching).
    whole_ranges: bool = True

    def read(self, name: str, offset: int = 0, length: int | None = None,
             immutable: bool = False) -> bytes:
        """Bytes ``[offset, offset+length)`` of file ``name`` (to EOF when length is None)."""
        raise NotImplementedError

    def size(self, name: str) -> int | None:
        """Size of file ``name``, None when it does not exist."""
        raise NotImplementedError

    def segments(self) -> dict[int, int]:
        """``{segment number: size}`` of the segment files present."""
        raise NotImplementedError

    def write_manifest(self, data: bytes) -> None:
        """Replace manifest.json atomically."""
        raise NotImplementedError

    def delete(self) -> None:
        """Remove the whole recording."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Forget cached listings (live follow)."""

    def is_cached(self, name: str, offset: int, length: int) -> bool:
        """True when that immutable range is in a local cache (never for local files)."""
        return False

    def discard(self, name: str, offset: int, length: int) -> None:
        """Drop a cached range that failed its CRC (so a repaired source is re-read)."""

    def close(self) -> None:
        """Release open files."""


class LocalBackend(Backend):
    """A recording directory on the local filesystem (pread on kept-open segment files)."""

    whole_ranges = False

    def __init__(self, root: str | os.PathLike):
        self.root = local_path(root)
        self.url = str(self.root)
        self._fds: dict[str, int] = {}
        self._lock = threading.Lock()

    def _fd(self, name: str) -> int:
        with self._lock:
            fd = self._fds.get(name)
            if fd is None:
                fd = self._fds[name] = os.open(self.root / name, os.O_RDONLY)
            return fd

    def read(self, name: str, offset: int = 0, length: int | None = None,
             immutable: bool = False) -> bytes:
        if not immutable:  # manifest/index may be replaced by rename: open afresh
            with open(self.root / name, "rb") as f:
                f.seek(offset)
                return f.read() if length is None else f.read(length)
        fd = self._fd(name)
        if length is None:
            length = os.fstat(fd).st_size - offset
        data = os.pread(fd, length, offset)
        while len(data) < length:  # pread may return short on huge reads
            more = os.pread(fd, length - len(data), offset + len(data))
            if not more:
                break
            data += more
        return data

    def size(self, name: str) -> int | None:
        try:
            return (self.root / name).stat().st_size
        except FileNotFoundError:
            return None

    def segments(self) -> dict[int, int]:
        out: dict[int, int] = {}
        try:
            entries = list(os.scandir(self.root / SEGMENTS))
        except FileNotFoundError:
            return out
        for e in entries:
            num = segment_number(e.name)
            if num is not None:
                out[num] = e.stat().st_size
        return out

    def write_manifest(self, data: bytes) -> None:
        write_atomic(self.root / MANIFEST, data)

    def delete(self) -> None:
        if is_being_written(self.root):
            raise StorageError(f"{self.root} is being written; close its writer first")
        self.close()
        shutil.rmtree(self.root)

    def close(self) -> None:
        with self._lock:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()


class FsspecBackend(Backend):
    """A recording under an fsspec URL prefix; sealed ranges cached in a LocalCache."""

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None,
                 cache: LocalCache | None = None):
        self.url = url.rstrip("/")
        self.fs, self.root = _fsspec().core.url_to_fs(self.url, **(storage_options or {}))
        self.root = self.root.rstrip("/")
        self.cache = cache

    def _path(self, name: str) -> str:
        return f"{self.root}/{name}"

    def _key(self, name: str, offset: int, length: int | None) -> str:
        return f"{self.url}/{name}#{self.namespace}:{offset}+{length}"

    def is_cached(self, name: str, offset: int, length: int) -> bool:
        """True when that immutable range is in the local cache."""
        return self.cache is not None and self._key(name, offset, length) in self.cache

    def discard(self, name: str, offset: int, length: int) -> None:
        if self.cache is not None:
            self.cache.discard(self._key(name, offset, length))

    def read(self, name: str, offset: int = 0, length: int | None = None,
             immutable: bool = False) -> bytes:
        key = self._key(name, offset, length)
        if immutable and self.cache is not None and length is not None:
            data = self.cache.get(key)
            if data is not None:
                return data
        end = None if length is None else offset + length
        data = self.fs.cat_file(self._path(name), start=offset or None, end=end)
        if immutable and self.cache is not None and length is not None and len(data) == length:
            self.cache.put(key, data)
        return data

    def size(self, name: str) -> int | None:
        try:
            return int(self.fs.info(self._path(name))["size"])
        except FileNotFoundError:
            return None

    def segments(self) -> dict[int, int]:
        try:
            entries = self.fs.ls(self._path(SEGMENTS), detail=True)
        except FileNotFoundError:
            return {}
        out = {}
        for e in entries:
            num = segment_number(e["name"])
            if num is not None:
                out[num] = int(e["size"])
        return out

    def write_manifest(self, data: bytes) -> None:
        self.fs.pipe_file(self._path(MANIFEST), data)  # object PUTs are atomic

    def delete(self) -> None:
        self.fs.rm(self.root, recursive=True)

    def refresh(self) -> None:
        self.fs.invalidate_cache()


def make_backend(url: str | os.PathLike, storage_options: dict[str, Any] | None = None,
                 cache: LocalCache | None = None) -> Backend:
    """LocalBackend for paths and file:// URLs, FsspecBackend for everything else."""
    if is_local(url):
        return LocalBackend(url)
    return FsspecBackend(os.fspath(url), storage_options, cache)


def upload(src: str | os.PathLike, url: str, storage_options: dict[str, Any] | None = None
           ) -> None:
    """Copy a local recording to an fsspec URL: segments, then index, manifest last.

    A reader polling the destination therefore never sees a manifest whose data
    has not arrived yet.
    """
    root = local_path(src)
    fs, dest = _fsspec().core.url_to_fs(url.rstrip("/"), **(storage_options or {}))
    dest = dest.rstrip("/")
    seg_dir = root / SEGMENTS
    for p in sorted(seg_dir.iterdir()) if seg_dir.is_dir() else []:
        if segment_number(p.name) is not None:
            fs.put_file(str(p), f"{dest}/{SEGMENTS}/{p.name}")
    for name in (INDEX, MANIFEST):
        if (root / name).exists():
            fs.put_file(str(root / name), f"{dest}/{name}")
