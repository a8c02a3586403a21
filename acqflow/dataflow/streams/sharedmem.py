"""Named shared-memory segments with a small int64 header for ring state and readers.

Segments are created with :mod:`multiprocessing.shared_memory`.  Each creating
process starts one cleaner (a tiny Python process in its own session, so a signal to
the creator's process group, even SIGKILL, does not reach it) and tells it the names
it creates and unlinks through a pipe; when the pipe closes (every process holding it
has exited, however it died) the cleaner unlinks the names still listed.  Python's
resource tracker (in the creator's process group, so it dies with it) is the fallback
where no cleaner can start.
Readers attach without registering, so a reader exiting never removes a segment it
does not own.

Header layout (int64 words): 0 magic, 1 head (samples written), 2 pending head
(set before a write starts: the seqlock readers check), 3 start index, 4 ring
size, 5 double flag, 6 bytes per sample, 7 nonce (a random number the output also
publishes in its params, so an input can prove it attached the very segment the
output wrote and not a same-named one on another machine); 64.. reader slots as
(pid, cursor) pairs; 16-19 and the bytes after the first page belong to wakeup.py
(the same-host wake-up: wake slots and chunk records).
"""
from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import secrets
import sys
import threading
import time
import weakref
from multiprocessing import resource_tracker, shared_memory
from typing import Any, Callable, Iterator

import numpy as np

__all__ = ["HEADER_BYTES", "Segment", "ReaderSlots", "SEGMENT_PREFIX", "NONCE_WORD", "new_nonce",
           "nonce_problem", "probe_segment", "pid_alive", "shm_free_bytes", "open_shared",
           "release_shared"]

SEGMENT_PREFIX = "acqflow_"
HEADER_BYTES = 61440   # one page of words, then the wake table and records (wakeup.py)
HEADER_WORDS = HEADER_BYTES // 8
MAGIC = 0x61637166_6c6f7731  # 'acqflow1'
MAX_READERS = 64
NONCE_WORD = 7
_SLOT0 = 64
_register_lock = threading.Lock()
_unclosed: list[shared_memory.SharedMemory] = []   # mappings with views still alive


@contextlib.contextmanager
def _untracked() -> Iterator[None]:
    """Python's resource tracker neither registers nor unregisters inside (Python < 3.13
    registers attached segments too, and would unlink them when a reader exits)."""
    with _register_lock:
        register, unregister = resource_tracker.register, resource_tracker.unregister
        resource_tracker.register = resource_tracker.unregister = lambda *a, **k: None
        try:
            yield
        finally:
            resource_tracker.register, resource_tracker.unregister = register, unregister


_tracked: set[str] = set()     # made while no cleaner could start: the resource tracker's


def _open(name: str | None, size: int) -> shared_memory.SharedMemory:
    """Create (name None; the cleaner learns the name first) or attach (untracked)."""
    if name is None:
        name = f"{SEGMENT_PREFIX}{os.getpid()}_{secrets.token_hex(6)}"
        tracked = not _cleaner.tell("+", name)     # no cleaner here: Python's resource tracker
        try:
            with _register_lock if tracked else _untracked():
                shm = shared_memory.SharedMemory(name=name, create=True, size=size)
        except BaseException:
            if not tracked:
                _cleaner.tell("-", name)
            raise
        if tracked:
            _tracked.add(name)
        return shm
    with _untracked():
        return shared_memory.SharedMemory(name=name)


def _unlink(shm: shared_memory.SharedMemory) -> None:
    """Remove the segment's name (mappings stay valid) and strike it from the cleaner's list."""
    tracked = shm.name in _tracked
    _tracked.discard(shm.name)
    try:
        with contextlib.nullcontext() if tracked else _untracked():
            shm.unlink()
    except FileNotFoundError:
        pass
    if not tracked:
        _cleaner.tell("-", shm.name)


# The cleaner: reads "+name" / "-name" lines until EOF, then unlinks what is listed.
_CLEANER_CODE = """\
import signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
from _posixshmem import shm_unlink
names = set()
for line in sys.stdin.buffer:
    name = line[1:].strip().decode()
    (names.add if line[:1] == b"+" else names.discard)(name)
for name in names:
    try:
        shm_unlink("/" + name)
    except OSError:
        pass
"""


class _Cleaner:
    """This process's cleaner (started at its first segment; a forked child shares it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._names: set[str] = set()    # what the cleaner would unlink now
        self._failed = False

    def _start(self) -> int | None:
        r, w = os.pipe()              # both ends close-on-exec; the child gets r as stdin
        try:
            os.posix_spawn(sys.executable, [sys.executable, "-I", "-S", "-c", _CLEANER_CODE],
                           os.environ, setsid=True, file_actions=[
                               (os.POSIX_SPAWN_DUP2, r, 0),
                               (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                               (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
        except (OSError, AttributeError, NotImplementedError):    # no posix_spawn/setsid
            os.close(w)
            return None
        finally:
            os.close(r)
        return w

    def tell(self, op: str, name: str) -> bool:
        """Add (``+``) or remove (``-``) ``name`` from the cleaner's list; False when no
        cleaner could be started in this process (no ``posix_spawn`` with ``setsid``)."""
        with self._lock:
            (self._names.add if op == "+" else self._names.discard)(name)
            if self._fd is None and not self._failed:
                self._fd = self._start()
                self._failed = self._fd is None
                lines = [f"+{n}\n" for n in self._names]      # a restarted cleaner: all
            else:
                lines = [f"{op}{name}\n"]
            if self._fd is None:
                self._names.discard(name)
                return False
            try:
                for line in lines:      # one write per line: atomic (< PIPE_BUF)
                    os.write(self._fd, line.encode())
            except OSError:             # the cleaner was killed on its own: a new one next
                os.close(self._fd)
                self._fd = None
            return True


_cleaner = _Cleaner()


def open_shared(name: str | None, size: int) -> shared_memory.SharedMemory:
    """Create a segment of ``size`` bytes (``name`` None) or attach to ``name`` without
    taking ownership (only the creator unlinks it)."""
    return _open(name, size)


def release_shared(shm: shared_memory.SharedMemory, owner: bool) -> None:
    """Close a mapping (later if views into it are alive) and, for the owner, unlink it."""
    try:
        shm.close()
    except BufferError:
        _unclosed.append(shm)   # numpy views still use it: unmapped once they are gone
    _close_unclosed()
    if owner:
        _unlink(shm)


def _close_unclosed() -> None:
    for shm in list(_unclosed):
        try:
            shm.close()
            _unclosed.remove(shm)
        except BufferError:
            pass


atexit.register(_close_unclosed)


class Segment:
    """One shared-memory segment: ``header`` (int64 words) then ``data`` bytes."""

    def __init__(self, shm: shared_memory.SharedMemory, owner: bool):
        self.shm: shared_memory.SharedMemory | None = shm      # None once closed
        self.owner = owner
        self.name = shm.name
        buf = shm.buf
        assert buf is not None           # (None only once closed)
        self.header = np.ndarray((HEADER_WORDS,), np.int64, buffer=buf)
        # the same words as a memoryview: a scalar read or write costs a third of numpy's
        # (the per-chunk paths use it)
        self.words = buf[:HEADER_BYTES].cast("q")
        self.data = buf[HEADER_BYTES:]
        # other views into shm (with a release()), released on close
        self.views: weakref.WeakSet[Any] = weakref.WeakSet()

    @classmethod
    def create(cls, data_bytes: int) -> "Segment":
        seg = cls(_open(None, HEADER_BYTES + max(data_bytes, 1)), owner=True)
        seg.header[:] = 0
        seg.header[0] = MAGIC
        return seg

    @classmethod
    def attach(cls, name: str) -> "Segment":
        try:
            shm = _open(name, 0)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"shared memory segment {name!r} does not exist (the output is closed, "
                f"or lives on another machine: use transfermode='plaindata' there)") from None
        seg = cls(shm, owner=False)
        if seg.header[0] != MAGIC:
            seg.close()
            raise ValueError(f"shared memory segment {name!r} is not an acqflow ring")
        return seg

    def lock(self) -> _FileLock:
        """A cross-process lock on the segment (flock on its /dev/shm file)."""
        if self.shm is None:
            raise ValueError(f"shared memory segment {self.name!r} is closed")
        return _FileLock(self.shm._fd)  # type: ignore[attr-defined]

    def close(self) -> None:
        """Detach; the owner also unlinks so the name disappears from /dev/shm."""
        if self.shm is None:
            return
        del self.header                  # (used after close: AttributeError)
        self.words.release()
        shm, self.shm = self.shm, None
        for view in list(self.views):   # (weak: they keep the segment alive, not it them)
            view.release()
        try:
            self.data.release()
            shm.close()
        except BufferError:
            # Views handed to users are still alive: the mapping stays until they go.
            _unclosed.append(shm)
        _close_unclosed()
        if self.owner:
            _unlink(shm)

    def __del__(self) -> None:
        # A stream dropped without close(): release our views before SharedMemory's own
        # __del__ tries to unmap under them (which prints a BufferError).
        try:
            self.close()
        except Exception:
            pass


def shm_free_bytes() -> int | None:
    """Bytes free for shared memory (/dev/shm), or None where that cannot be known.
    Segments are sparse files: an oversized one is created fine and faults (SIGBUS)
    only when written, so callers check first."""
    try:
        st = os.statvfs("/dev/shm")
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def new_nonce() -> int:
    """A random non-zero int64 identifying one segment (written at NONCE_WORD)."""
    return secrets.randbits(62) + 1


def nonce_problem(segment: Segment, nonce: int | None) -> str | None:
    """None when ``segment`` carries ``nonce``, else why it is not the output's segment."""
    if not nonce:
        return f"the output published no nonce for segment {segment.name!r}"
    found = int(segment.header[NONCE_WORD])
    if found != int(nonce):
        return (f"shared memory segment {segment.name!r} here is not the output's (nonce "
                f"{found} != {nonce}): the output lives on another machine")
    return None


def probe_segment(name: str, nonce: int | None) -> str | None:
    """Check that segment ``name`` can be attached here and carries ``nonce``.

    Returns None when it does, else the reason it does not (missing, not an
    acqflow ring, other nonce: the output lives on another machine).
    """
    if not nonce:
        return f"the output published no nonce for segment {name!r}"
    try:
        seg = Segment.attach(name)
    except (FileNotFoundError, ValueError, OSError) as exc:
        return str(exc)
    try:
        return nonce_problem(seg, nonce)
    finally:
        seg.close()


class _FileLock:
    def __init__(self, fd: int):
        self.fd = fd

    def __enter__(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)


class ReaderSlots:
    """Per-reader cursors in a segment header, so a blocking writer can wait for
    the slowest reader instead of overwriting what it has not read yet."""

    def __init__(self, segment: Segment):
        self.segment = segment
        # Cursors only grow, and a new reader starts at the head (>= every cursor),
        # so a minimum seen once stays a lower bound: the writer's fast path.
        self._known_min = -1

    def _words(self) -> np.ndarray:
        return self.segment.header[_SLOT0:_SLOT0 + 2 * MAX_READERS].reshape(MAX_READERS, 2)

    def register(self, cursor: int) -> int:
        """Take a free slot (freeing those of dead processes first) at ``cursor``."""
        with self.segment.lock():
            slots = self._words()
            free = np.flatnonzero(slots[:, 0] == 0)
            if len(free) == 0:
                self._free_dead()
                free = np.flatnonzero(slots[:, 0] == 0)
            if len(free) == 0:
                raise RuntimeError(f"{MAX_READERS} live block-mode readers already use "
                                   f"{self.segment.name}; close one first")
            k = int(free[0])
            slots[k, 1] = cursor
            slots[k, 0] = os.getpid()
            return k

    def set_cursor(self, slot: int, cursor: int) -> None:
        self.segment.words[_SLOT0 + 2 * slot + 1] = cursor

    def release(self, slot: int) -> None:
        self._words()[slot, 0] = 0

    def wait_until(self, needed: int, should_stop: Callable[[], bool]) -> None:
        """Block until every live reader's cursor is >= ``needed``.

        Yields the CPU for the first ~100 us (a reader is usually just behind),
        then sleeps with a growing delay.  Slots whose process is gone are freed;
        ``should_stop()`` is polled so a closing stream never waits forever.
        """
        if needed <= self._known_min:
            return
        started = time.monotonic()
        delay = 0.00005
        last_sweep = 0.0
        while True:
            slots = self._words()
            active = slots[:, 0] != 0
            if not active.any():
                return
            self._known_min = int(slots[active, 1].min())
            if self._known_min >= needed:
                return
            if should_stop():
                return
            waited = time.monotonic() - started
            if waited < 0.0001:
                os.sched_yield()
                continue
            if waited > 0.1 and waited - last_sweep > 0.1:
                last_sweep = waited
                self._free_dead()
            time.sleep(delay)
            delay = min(delay * 2, 0.001)

    def _free_dead(self) -> None:
        """Free the slots of reader processes that no longer run (killed, crashed)."""
        slots = self._words()
        for k in np.flatnonzero(slots[:, 0] != 0):
            if not pid_alive(int(slots[k, 0])):
                slots[k, 0] = 0


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                   # another user's live process
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return True                   # no /proc here: trust kill()
