"""Same-host wake-up for sharedmem streams, bypassing ZeroMQ's I/O threads.

A sharedmem chunk is already in the ring when it is announced, so only a small
record and a wake-up have to reach the reader.  Through ZeroMQ that takes four
thread hand-offs (sender -> its I/O thread -> the reader's I/O thread -> the
reader); here it takes one:

- the writer appends a record ``(seq, index, nsamples, send_time, sample_time)`` to a table of
  RECORDS entries in the segment (a per-record seqlock: the ``seq`` word is
  written first and checked twice by readers) and bumps the published seq;
- each reader owns a FIFO (named pipe) in the private 0700 directory (private.py), opened
  read-write and non-blocking, whose path it writes in a wake slot of the
  segment; the writer writes one byte to every reader's FIFO per chunk;
- the reader waits on its FIFO and its ZeroMQ socket together (``zmq.zmq_poll``
  accepts raw fds), so ``poll``/``recv``/ThreadPollInput work unchanged.

ZeroMQ still carries discovery (the connection handshake and its position),
end-of-stream, and everything for inputs that cannot use this path (no free
wake slot, no FIFO, ``ACQFLOW_SHM_WAKEUP=0``).  A reader that falls more than
RECORDS records behind finds them overwritten and counts the samples as
dropped (seq jump); a dead reader's FIFO gives EPIPE and its slot is freed; a
dead writer is noticed by its pid while the reader waits.
"""
from __future__ import annotations

import errno
import logging
import math
import os
import secrets
import select
import time
from typing import TYPE_CHECKING, Any

from .private import private_dir
from .sharedmem import HEADER_BYTES, Segment, pid_alive

if TYPE_CHECKING:
    from .transport import Subscriber

__all__ = ["RECORDS", "WAKE_SLOTS", "WakeWriter", "WakeReader", "enabled", "open_reader"]

log = logging.getLogger(__name__)

RECORDS = 1024            # chunk records kept in the segment (a reader may lag this many)
WAKE_SLOTS = 64           # readers that can use this path at once (more fall back to ZeroMQ)
_SLOT_BYTES = 256         # pid, token, path length, path
_REC_WORDS = 5            # seq, index, nsamples, send_time, sample_time
WAKE_OFFSET = 4096        # bytes: the wake table follows the first header page
RECORD_OFFSET = WAKE_OFFSET + WAKE_SLOTS * _SLOT_BYTES
AREA_END = RECORD_OFFSET + RECORDS * 8 * _REC_WORDS
# header words
W_VERSION, W_PID, W_PUBLISHED, W_GEN, W_PIDNS = 16, 17, 18, 19, 20
VERSION = 2
_WRITER_CHECK_S = 0.1     # a waiting reader checks this often that the writer's process lives
_yield = os.sched_yield   # what a spinning reader calls between looks at the records
_MAX_PATH = _SLOT_BYTES - 24
assert AREA_END <= HEADER_BYTES


def enabled() -> bool:
    """False when ``ACQFLOW_SHM_WAKEUP`` is 0/off/zmq (every input then waits on ZeroMQ)."""
    return os.environ.get("ACQFLOW_SHM_WAKEUP", "1").lower() not in ("0", "off", "zmq", "no")


def _pid_namespace() -> int:
    """This process's pid namespace (inode), 0 when unknown: a pid means the same
    process on both ends only within one namespace."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


def _orphaned(path: str) -> bool:
    """True when no process holds the FIFO at ``path`` open (its reader is gone)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC))
        return False
    except OSError as exc:
        return exc.errno in (errno.ENXIO, errno.ENOENT)


class _Views:
    """int64 views of a segment's header words, wake table and records (memoryviews:
    a scalar access costs a third of numpy's)."""

    def __init__(self, segment: Segment):
        assert segment.shm is not None and segment.shm.buf is not None, "segment is closed"
        buf = segment.shm.buf
        self.segment = segment
        self.words = buf[:WAKE_OFFSET].cast("q")
        self.table = buf[WAKE_OFFSET:RECORD_OFFSET]
        self.rec = buf[RECORD_OFFSET:AREA_END].cast("q")
        self.rec_t = buf[RECORD_OFFSET:AREA_END].cast("d")
        segment.views.add(self)          # released if the segment closes first

    def slot_word(self, k: int, i: int) -> int:
        return int.from_bytes(self.table[k * _SLOT_BYTES + 8 * i:k * _SLOT_BYTES + 8 * i + 8], "little",
                              signed=True)

    def set_slot_word(self, k: int, i: int, value: int) -> None:
        self.table[k * _SLOT_BYTES + 8 * i:k * _SLOT_BYTES + 8 * i + 8] = value.to_bytes(8, "little",
                                                                                     signed=True)

    def slot_path(self, k: int) -> str:
        n = max(0, min(self.slot_word(k, 2), _MAX_PATH))
        return bytes(self.table[k * _SLOT_BYTES + 24:k * _SLOT_BYTES + 24 + n]).decode(errors="replace")

    def release(self) -> None:
        for view in (self.words, self.table, self.rec, self.rec_t):
            view.release()
        self.segment.views.discard(self)


class WakeWriter:
    """The output's side: publishes records and wakes every registered reader."""

    def __init__(self, segment: Segment):
        self._v: _Views | None = _Views(segment)       # None once closed
        words = self._v.words
        words[W_PUBLISHED] = 0
        words[W_GEN] = 0
        words[W_PID] = os.getpid()
        words[W_PIDNS] = _pid_namespace()
        words[W_VERSION] = VERSION
        self._gen = 0
        self._fds: dict[tuple[int, int], int] = {}   # (pid, token) -> FIFO write fd

    def index_to_overwrite(self, seq: int) -> int:
        """The end index of the record that publishing ``seq`` overwrites (0: none), for a
        blocking writer to wait until every reader consumed it."""
        v = self._v
        assert v is not None, "wake-up writer is closed"
        old = v.rec[(seq % RECORDS) * _REC_WORDS + 1]
        return old if v.rec[(seq % RECORDS) * _REC_WORDS] == seq - RECORDS else 0

    def publish(self, seq: int, index: int, nsamples: int, send_time: float,
                sample_time: float | None = None) -> None:
        """Append the record of a chunk now in the ring, then wake the readers."""
        v = self._v
        assert v is not None, "wake-up writer is closed"
        base = (seq % RECORDS) * _REC_WORDS
        rec = v.rec
        rec[base] = seq                  # first: a reader reading this slot sees it change
        rec[base + 1] = index
        rec[base + 2] = nsamples
        v.rec_t[base + 3] = send_time
        v.rec_t[base + 4] = send_time if sample_time is None else sample_time
        v.words[W_PUBLISHED] = seq
        if v.words[W_GEN] != self._gen:
            self._refresh()
        gone = None
        for key, fd in self._fds.items():
            try:
                os.write(fd, b"\x01")
            except BlockingIOError:
                pass                     # its FIFO is full of wake-ups: it will wake anyway
            except OSError:
                gone = key               # EPIPE: the reader's process is gone
        if gone is not None:
            self._forget(gone)

    @property
    def n_readers(self) -> int:
        return len(self._fds)

    def _refresh(self) -> None:
        """Open the FIFOs of newly registered readers, close those of departed ones."""
        v = self._v
        assert v is not None
        with v.segment.lock():
            self._gen = v.words[W_GEN]
            live = {}
            for k in range(WAKE_SLOTS):
                pid = v.slot_word(k, 0)
                if pid:
                    live[(pid, v.slot_word(k, 1))] = (k, v.slot_path(k))
        for key in [key for key in self._fds if key not in live]:
            os.close(self._fds.pop(key))
        for key, (k, path) in live.items():
            if key in self._fds:
                continue
            try:
                self._fds[key] = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as exc:
                if exc.errno in (errno.ENXIO, errno.ENOENT):
                    self._free(key, path)         # a reader that died before we met it

    def _forget(self, key: tuple[int, int]) -> None:
        fd = self._fds.pop(key, None)
        if fd is not None:
            os.close(fd)
        v = self._v
        assert v is not None
        with v.segment.lock():
            for k in range(WAKE_SLOTS):
                if (v.slot_word(k, 0), v.slot_word(k, 1)) == key:
                    self._free(key, v.slot_path(k), k)

    def _free(self, key: tuple[int, int], path: str, k: int | None = None) -> None:
        """Clear a dead reader's slot and remove its FIFO (caller may hold the lock)."""
        v = self._v
        assert v is not None
        if k is None:
            with v.segment.lock():
                for j in range(WAKE_SLOTS):
                    if (v.slot_word(j, 0), v.slot_word(j, 1)) == key:
                        k = j
                if k is None:
                    return
                self._free(key, path, k)
            return
        v.set_slot_word(k, 0, 0)
        v.words[W_GEN] += 1
        try:
            os.unlink(path)
        except OSError:
            pass

    def close(self) -> None:
        """Close the FIFOs and release the views (before the segment closes)."""
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        if self._v is not None:
            self._v.words[W_VERSION] = 0
            self._v.release()
            self._v = None


class WakeReader:
    """An input's side: a FIFO registered in the segment, and the records read in order."""

    def __init__(self, segment: Segment):
        v = _Views(segment)
        if v.words[W_VERSION] != VERSION:
            v.release()
            raise OSError("the output does not publish wake-up records")
        self._v: _Views | None = v       # None once closed
        self.path = os.path.join(private_dir(), f"wake-{os.getpid()}-{secrets.token_hex(6)}")
        if len(self.path.encode()) > _MAX_PATH:
            v.release()
            raise OSError(f"runtime path too long for a wake slot: {self.path}")
        os.mkfifo(self.path, 0o600)
        try:
            # read-write: never EOF/POLLHUP when the writer goes away, and opening never blocks
            self.fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
            self._token = secrets.randbits(62)
            self._slot = self._register()
        except BaseException:
            self._cleanup()
            raise
        self.writer_pid = v.words[W_PID]
        ns = v.words[W_PIDNS]
        self._pid_visible = bool(ns) and ns == _pid_namespace()
        self.next_seq = 1

    def _register(self) -> int:
        v = self._v
        assert v is not None
        with v.segment.lock():
            for attempt in range(2):
                for k in range(WAKE_SLOTS):
                    if v.slot_word(k, 0) == 0:
                        path = self.path.encode()
                        v.set_slot_word(k, 1, self._token)
                        v.set_slot_word(k, 2, len(path))
                        v.table[k * _SLOT_BYTES + 24:k * _SLOT_BYTES + 24 + len(path)] = path
                        v.set_slot_word(k, 0, os.getpid())
                        v.words[W_GEN] += 1
                        return k
                if attempt == 0:        # full: free the slots of dead readers first
                    for k in range(WAKE_SLOTS):
                        if v.slot_word(k, 0) and _orphaned(v.slot_path(k)):
                            v.set_slot_word(k, 0, 0)
                            try:
                                os.unlink(v.slot_path(k))
                            except OSError:
                                pass
        raise OSError(f"all {WAKE_SLOTS} wake slots of {v.segment.name} are taken")

    def join(self, sub: Subscriber, seq: int | None) -> None:
        """Read the records after ``seq`` (the position the output answered with; None:
        from now) and wait on ``sub``'s socket too (a transport.Subscriber)."""
        self.next_seq = (self.published() if seq is None else seq) + 1
        self.watch(sub.fd)

    def published(self) -> int:
        assert self._v is not None, "wake-up reader is closed"
        return self._v.words[W_PUBLISHED]

    def take(self) -> tuple[int, int, int, float, float] | None:
        """The next record ``(seq, index, nsamples, send_time, sample_time)``, or None when none is
        published yet.  Records overwritten before being read are skipped: the seq jump
        tells the caller they were lost."""
        v = self._v
        assert v is not None, "wake-up reader is closed"
        rec = v.rec
        while True:
            s = self.next_seq
            published = v.words[W_PUBLISHED]
            if published < s:
                return None
            base = (s % RECORDS) * _REC_WORDS
            if rec[base] == s:
                index, n, t, ts = rec[base + 1], rec[base + 2], v.rec_t[base + 3], v.rec_t[base + 4]
                if rec[base] == s:
                    self.next_seq = s + 1
                    return s, index, n, t, ts
            # overwritten (the writer lapped this reader): go to the oldest still there
            self.next_seq = max(s + 1, v.words[W_PUBLISHED] - RECORDS + 2)

    def drain(self) -> None:
        """Consume the wake-up bytes poll() reported (one per chunk published)."""
        try:
            while len(os.read(self.fd, 65536)) == 65536:
                pass
        except BlockingIOError:
            pass

    def watch(self, zmq_fd: int) -> None:
        """Wait on ZeroMQ's socket descriptor (``zmq.FD``) alongside the FIFO."""
        self._poller = select.poll()
        self._poller.register(self.fd, select.POLLIN)
        self._poller.register(zmq_fd, select.POLLIN)
        self._zmq_maybe = True
        self._fifo_maybe = True

    def next(self, sub: Subscriber, timeout_ms: float | None,
             spin_ms: float = 0.0) -> tuple[str, Any] | None:
        """Wait for the next record or ZeroMQ message, whichever comes first.

        Returns ``("record", (seq, index, nsamples, send_time, sample_time))``, ``("zmq", frames)``
        from ``sub`` (a transport.Subscriber: end-of-stream), ``("died", None)`` when
        the writer's process is gone and every record it published was read, or None
        after ``timeout_ms`` (None: wait forever).  With ``spin_ms`` it first polls the
        records in a busy loop for that long (up to the timeout), then sleeps as usual:
        a core kept busy for less latency (no wake-up, caches kept warm), yielded to any
        other runnable process between looks (more spinners than cores still progress).
        Records come before ZeroMQ messages, which were sent after them.  One poll()
        and one read() per wake-up: the FIFO is read only when poll() said it holds
        bytes, and only before waiting again; ZeroMQ's socket is asked for messages only
        when its descriptor fired (or may still hold some).
        """
        now = time.monotonic()
        deadline = None if timeout_ms is None else now + timeout_ms / 1000
        if spin_ms > 0:       # busy-wait on the records first: no wake-up to wait for
            end = now + (spin_ms if timeout_ms is None else min(spin_ms, timeout_ms)) / 1000
            while time.monotonic() < end:
                rec = self.take()
                if rec is not None:
                    return "record", rec
                _yield()         # let a runnable process have this core: spinners share cores
            now = time.monotonic()
        check_writer = now + _WRITER_CHECK_S
        while True:
            rec = self.take()
            if rec is not None:
                return "record", rec
            if self._fifo_maybe:
                # Wake-up bytes are read here, before waiting again, not between a wake-up
                # and the record it announced (off the latency path).  A byte read now
                # belongs to a record already published, so take() is asked again after.
                self._fifo_maybe = False
                self.drain()
                continue
            if self._zmq_maybe:
                if sub.ready():
                    # A record published before a ready message comes first: it was
                    # published before that message was sent, so it shows by now.
                    if self.published() >= self.next_seq:
                        continue
                    frames = sub.recv(0)
                    if frames is not None:
                        return "zmq", frames
                self._zmq_maybe = False          # nothing waits (ready() counts what is queued)
                continue
            now = time.monotonic()
            if now >= check_writer:
                if not self.writer_alive():
                    self._zmq_maybe = True
                    if self.published() >= self.next_seq or sub.ready():
                        continue
                    return "died", None
                check_writer = now + _WRITER_CHECK_S
            wait = _WRITER_CHECK_S if deadline is None else min(deadline - now, _WRITER_CHECK_S)
            if wait <= 0:
                return None
            for fd, _ in self._poller.poll(max(1, math.ceil(wait * 1000))):
                if fd == self.fd:
                    self._fifo_maybe = True    # read before the next wait (see above)
                else:
                    self._zmq_maybe = True     # edge-triggered: asked until it has nothing

    def writer_alive(self) -> bool:
        """False once the writer closed or its process is gone (by pid when it lives in
        this pid namespace, else by its segment, which its resource tracker unlinks)."""
        v = self._v
        if v is None or v.words[W_VERSION] != VERSION:
            return False
        if self._pid_visible:
            return pid_alive(self.writer_pid)
        return os.path.exists(os.path.join("/dev/shm", v.segment.name))

    def _cleanup(self) -> None:
        if getattr(self, "fd", -1) >= 0:
            os.close(self.fd)
            self.fd = -1                 # closed
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def __del__(self) -> None:     # an input dropped without close(): no FIFO left behind
        try:
            self.close()
        except Exception:
            pass

    def close(self) -> None:
        """Leave the wake table, remove the FIFO, release the views."""
        v = self._v
        if v is None:
            return
        self._v = None
        try:
            with v.segment.lock():
                if v.slot_word(self._slot, 0) == os.getpid() and v.slot_word(self._slot, 1) == self._token:
                    v.set_slot_word(self._slot, 0, 0)
                    v.words[W_GEN] += 1
        finally:
            v.release()
            self._cleanup()


def open_reader(segment: Segment, label: str) -> WakeReader | None:
    """A WakeReader on ``segment``, or None (logged) when this input must wait on ZeroMQ:
    disabled by ACQFLOW_SHM_WAKEUP, no FIFO possible here, all wake slots taken."""
    if not enabled():
        return None
    try:
        return WakeReader(segment)
    except OSError as exc:
        log.info("%s: waiting on ZeroMQ (%s)", label, exc)
        return None
