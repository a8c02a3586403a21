"""Named shared-memory segments with a small int64 header for ring state and readers.

Segments are created with :mod:`multiprocessing.shared_memory`, whose resource
tracker unlinks them if the creating process dies without closing (even on
SIGKILL).  Readers attach without registering, so a reader exiting never removes
a segment it does not own.

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
import fcntl
import os
import secrets
import threading
import time
import weakref
from multiprocessing import resource_tracker, shared_memory

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


def _open(name: str | None, size: int) -> shared_memory.SharedMemory:
    """Create (name None) or attach; attaching does not register with the tracker.

    Python < 3.13 registers attached segments with the resource tracker, which
    would unlink them when the reader exits; only the creator may do that.
    """
    if name is None:
        name = f"{SEGMENT_PREFIX}{os.getpid()}_{secrets.token_hex(6)}"
        with _register_lock:
            return shared_memory.SharedMemory(name=name, create=True, size=size)
    with _register_lock:
        register = resource_tracker.register
        resource_tracker.register = lambda *args, **kwargs: None
        try:
            return shared_memory.SharedMemory(name=name)
        finally:
            resource_tracker.register = register


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
        try:
            shm.unlink()
        except FileNotFoundError:
            pass


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
        self.shm = shm
        self.owner = owner
        self.name = shm.name
        self.header = np.ndarray((HEADER_WORDS,), np.int64, buffer=shm.buf)
        # the same words as a memoryview: a scalar read or write costs a third of numpy's
        # (the per-chunk paths use it)
        self.words = shm.buf[:HEADER_BYTES].cast("q")
        self.data = shm.buf[HEADER_BYTES:]
        self.views = weakref.WeakSet()   # other views into shm (with a release()), released on close

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

    def lock(self):
        """A cross-process lock on the segment (flock on its /dev/shm file)."""
        return _FileLock(self.shm._fd)  # type: ignore[attr-defined]

    def close(self) -> None:
        """Detach; the owner also unlinks so the name disappears from /dev/shm."""
        if self.shm is None:
            return
        self.header = None
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
            try:
                shm.unlink()
            except FileNotFoundError:
                pass

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

    def __enter__(self):
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc):
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

    def wait_until(self, needed: int, should_stop) -> None:
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
