"""RecordingWriter: the engine the Recorder node drives.

``write()`` never blocks: it validates and copies the chunk (a chunk already checked at
the wire and never modified, the Recorder's, is taken as it is), then hands it to a
bounded queue drained by one writer thread that encodes video frames, builds
blocks, seals one every ``block_s`` seconds or ``block_bytes`` bytes and appends
it to the segment files.  A full queue drops the chunk, counts it and logs it;
the dropped samples then read back as a gap.  A compressed video stream (h264, hevc,
ffv1) has its own encoder thread and queue (:mod:`.videoenc`) whose packets join the
writer's queue; a block holds whole GOPs of it (the open GOP waits for the next block).
Every file write while recording (segments, index, manifest updates) happens on the
writer thread.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import queue
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from acqflow.dataflow.streams import clock

from .backends import is_local, local_path
from acqflow.dataflow.paramcheck import must_be, one_of
from acqflow.dataflow.streams.spec import make_dtype

from .codec import encode_frames, normalize_codec
from .errors import WriterError
from .format import BlockInfo, Chunk
from .manifest import same_stream, stream_dtype, stream_entry, stream_shape
from .segments import FSYNC_POLICIES, AppendPlan, SegmentWriter
from .stats import WriterStats
from .target import WriteTarget
from .videocodec import is_packet_codec
from .videoenc import VideoEncoder, open_gops
from .videopackets import PacketIntake, is_packet_stream, stored_params
from .writerstate import MANIFEST, Control, StreamState

__all__ = ["RecordingWriter", "MODES"]

log = logging.getLogger(__name__)
MODES = ("create", "overwrite", "append")
_OPEN_GOP_BLOCKS = 8      # an open GOP kept back for the next block: at most this many blocks' bytes


class RecordingWriter:
    """Write streams into a local recording directory (see docs/recording.md).

    ``fsync``: 'block' (every sealed block is durable before it is indexed),
    'interval' (at most every ``fsync_interval`` s) or 'none' (OS decides; still
    safe against process kills, not against power loss).

    ``mode``: 'create', 'overwrite' (written beside the old recording, which is replaced
    at :meth:`publish` or the commit) or 'append'.  ``run``: an id stored in the manifest;
    a writer with the same ``run`` continues that recording whatever its mode (a rebuilt
    Recorder).  ``deferred``: a created recording appears at :meth:`publish` (or the
    commit), not at once.  :meth:`abort` undoes the writer: nothing it did not create is
    removed.
    """

    def __init__(self, url: str | os.PathLike, mode: str = "create", *, block_s: float = 1.0,
                 block_bytes: int = 4 << 20, segment_bytes: int = 256 << 20,
                 fsync: str = "block", fsync_interval: float = 1.0,
                 queue_chunks: int = 4096, queue_bytes: int = 256 << 20,
                 metadata: dict[str, Any] | None = None,
                 on_seal: Callable[[BlockInfo], None] | None = None, run: str | None = None,
                 deferred: bool = False):
        one_of(*MODES)("mode", mode)
        one_of(*FSYNC_POLICIES)("fsync", fsync)
        if not block_s > 0:
            must_be("block_s", "> 0", block_s)
        for key, value in (("block_bytes", block_bytes), ("segment_bytes", segment_bytes)):
            if not value >= 1:
                must_be(key, ">= 1", value)
        if not is_local(url):
            raise ValueError(f"{url}: RecordingWriter writes local recordings; write locally "
                             "and copy with acqflow.storage.upload()")
        self.path = local_path(url).absolute()
        self.block_s, self.block_bytes = float(block_s), int(block_bytes)
        self.on_seal = on_seal
        self._streams: dict[str, StreamState] = {}
        self._by_id: list[StreamState] = []
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, int(queue_chunks)))
        self._queue_bytes_max = int(queue_bytes)
        self._queued_bytes = 0
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._closed = False
        self.overflows = 0
        self.blocks_sealed = 0
        self.queue_high_water = 0
        self._last_warning = 0.0
        settings = {"block_s": self.block_s, "block_bytes": self.block_bytes,
                    "segment_bytes": int(segment_bytes), "fsync": fsync,
                    "fsync_interval": float(fsync_interval)}
        self._target = WriteTarget(self.path, mode, settings, metadata, run, deferred)
        self.mode = self._target.mode     # 'append' when continuing this run's recording
        self.manifest = self._target.manifest
        if self._target.plan is not None:
            try:
                self._continue(self._target.plan)
            except BaseException:
                self._target.release()
                raise
        self._seg_args = (fsync, fsync_interval, segment_bytes)
        self._segments: SegmentWriter | None = None
        self._thread = threading.Thread(target=self._run, name=f"acqflow-writer:{self.path.name}",
                                        daemon=True)
        self._thread.start()

    # -- creation --------------------------------------------------------------
    def _continue(self, plan: AppendPlan) -> None:
        """Stream states of the recording appended to: where each one stops."""
        for entry in self.manifest["streams"]:
            st = self._add_state(entry)
            table = plan.index.streams.get(st.sid)
            stats = self.manifest.get("stats", {}).get("streams", {}).get(entry["name"], {})
            if table is not None and len(table):
                a = table.arrays
                st.first, st.expected = int(a["start"][0]), int(a["stop"][-1])
            st.sealed_stop = st.expected
            st.expected = max(st.expected, int(stats.get("expected_stop") or 0))
        self.blocks_sealed = len(plan.index.blocks)

    def _open_segments(self) -> SegmentWriter:
        """The segment files, opened before the first block (append: after the repair)."""
        if self._segments is None:
            self._target.open_files()
            self._segments = SegmentWriter(self._target.root, *self._seg_args,
                                           *self._target.start)
        return self._segments

    def _add_state(self, entry: dict[str, Any]) -> StreamState:
        st = StreamState(entry["id"], entry, stream_dtype(entry), stream_shape(entry),
                     entry.get("codec"))
        if st.codec and st.codec.get("source") == "packets":     # stored as received
            st.intake = PacketIntake(entry["name"], st.codec)
        elif is_packet_codec(st.codec):
            st.encoder = VideoEncoder(st.sid, entry["name"], st.codec, st.shape,
                                      float(entry["sample_rate"]), self._packet, self._fail)
        self._streams[entry["name"]] = st
        self._by_id.append(st)
        return st

    # -- public API ------------------------------------------------------------
    def add_stream(self, name: str, params: dict[str, Any] | None = None,
                   codec: str | dict[str, Any] | None = None, **kw: Any) -> int:
        """Declare a stream from acqflow stream params; returns its id.

        In append mode an existing stream of the same name must match and is reused.
        ``codec`` ('png', 'jpg', {'name': 'jpg', 'quality': 80}, 'h264', 'hevc', 'ffv1',
        {'name': 'h264', 'crf': 23, ...}: :mod:`.videocodec`) applies to video.  A packet
        stream (streamtype 'packets') is stored as it comes (:mod:`.videopackets`).
        """
        self._check_open()
        p = dict(params or {}, **kw)
        packet_codec = None
        if is_packet_stream(p):
            p, packet_codec = stored_params(p, codec)
        entry = stream_entry(len(self._by_id), name, p)
        entry["codec"] = packet_codec or normalize_codec(codec, entry["streamtype"],
                                                         stream_shape(entry), p.get("pixel_format"))
        if name in self._streams:
            old = self._streams[name]
            if not same_stream(old.entry, entry):
                raise ValueError(f"stream {name!r} already exists with different params")
            return old.sid
        self._target.dirty = True
        self._target.write_manifest(lambda: self.manifest["streams"].append(entry))
        return self._add_state(entry).sid

    def set_stream_clock(self, stream: str | int, info: dict[str, Any],
                         time_model: dict[str, Any] | None = None) -> None:
        """Replace a stream's ``clock_sync`` entry in the manifest (the estimated offset
        of its source's clock to the recorder's) and, when given, its ``time_model`` (the
        fitted ``time(index)`` and its history, see storage.streamtime).  Never waits on
        the file: the writer thread writes the manifest, soon (at the latest with the next
        block, or close())."""
        self._check_open()
        st = self._stream(stream)
        extra = {} if time_model is None else {"time_model": dict(time_model)}
        info = dict(info)
        self._target.defer(lambda: st.entry.update(clock_sync=info, **extra))
        try:
            self._queue.put_nowait(MANIFEST)
        except queue.Full:
            pass                  # the thread is busy: it writes them after its next block

    @property
    def streams(self) -> dict[str, dict[str, Any]]:
        """Manifest entries of the streams, by name."""
        return {name: st.entry for name, st in self._streams.items()}

    def stream_stop(self, stream: str | int) -> int:
        """Absolute index after the last sample written (or recovered, in append mode)."""
        return self._stream(stream).expected

    def _stream(self, stream: str | int) -> StreamState:
        try:
            if isinstance(stream, int):
                if stream < 0:
                    raise IndexError(stream)
                return self._by_id[stream]
            return self._streams[stream]
        except (KeyError, IndexError):
            raise KeyError(f"no stream {stream!r} in {self.path}") from None

    def _check_open(self) -> None:
        if self._error is not None:
            raise WriterError(f"writer thread failed: {self._error!r}") from self._error
        if self._closed:
            raise WriterError(f"{self.path}: writer is closed")

    def takes_unchecked(self, stream: str, params: dict[str, Any]) -> bool:
        """Whether chunks of a stream with these params (already checked against them where
        they came off the wire) can be written as they are (``write(..., checked=True)``):
        the recorded stream has the same dtype and sample shape."""
        if self._stream(stream).intake is not None:
            return True                  # a packet stream: the intake checks each packet
        entry = self.streams[stream]
        return (make_dtype(params["dtype"]) == stream_dtype(entry)
                and tuple(params["shape"])[1:] == stream_shape(entry)[1:])

    def write(self, stream: str | int, data: Any, index: int | None = None,
              timestamp: float | None = None, *, checked: bool = False) -> bool:
        """Queue one chunk; ``index`` is the absolute count after it.

        Returns False when the queue was full and the chunk was dropped (counted
        in ``stats`` and read back as a gap).  Never blocks.  ``checked=True``: ``data``
        is an array of the stream's dtype and sample shape that nobody modifies afterwards
        (a chunk from ``InputStream.recv``, checked where it came off the wire): queued as
        it is, neither checked nor copied again.
        """
        self._check_open()
        st = self._stream(stream)
        arr = data if checked and st.intake is None else st.own_copy(data, checked)
        n = arr.shape[0]
        stop = st.expected + n if index is None else int(index)
        start = stop - n
        if start < st.expected:
            raise ValueError(f"stream {st.entry['name']!r}: chunk [{start}:{stop}] overlaps "
                             f"samples already written (up to {st.expected})")
        if start > st.expected and (st.first is not None or st.expected > 0):
            st.gaps += 1
            st.gap_samples += start - st.expected
        st.expected = stop
        if n == 0:
            return True
        t = clock.now() if timestamp is None else float(timestamp)
        chunk = st.intake.chunk(st.sid, start, t, arr) if st.intake is not None else None
        if st.intake is not None and chunk is None:
            return True                 # before a packet stream's first keyframe: not stored
        if st.first is None:
            st.first = start
        if st.encoder is not None:           # copied once, into the encoder's frames
            return self._counted(st, start, stop, n, st.encoder.put(start, t, arr))
        # per-frame codecs take the frames as they are; samples go as their bytes (a view)
        if chunk is None:
            payload = arr if st.codec else np.ascontiguousarray(arr).reshape(-1).view(np.uint8)
            chunk = Chunk(st.sid, start, n, t, payload)
        size = chunk.payload.nbytes
        with self._lock:
            full = self._queued_bytes + size > self._queue_bytes_max and self._queued_bytes > 0
            if not full:
                try:
                    self._queue.put_nowait(chunk)
                except queue.Full:
                    full = True
                else:
                    self._queued_bytes += size
                    self.queue_high_water = max(self.queue_high_water, self._queue.qsize())
        return self._counted(st, start, stop, n, not full)

    def _counted(self, st: StreamState, start: int, stop: int, n: int, queued: bool) -> bool:
        """Count a queued chunk, or a dropped one (logged at most once a second)."""
        if queued:
            st.chunks += 1
            st.samples += n
            return True
        with self._lock:
            st.dropped_chunks += 1
            st.dropped_samples += n
            self.overflows += 1
        now = time.monotonic()
        if now - self._last_warning > 1.0:
            self._last_warning = now
            what = "encoder" if st.encoder is not None else "writer"
            log.warning("%s: %s queue full, dropped chunk [%d:%d] of %r (%d overflows so far)",
                        self.path, what, start, stop, st.entry["name"], self.overflows)
        return False

    def _packet(self, sid: int, index: int, t: float, packet: bytes, flags: int) -> None:
        """From an encoder thread: queue one packet for the writer thread (waits for room;
        only that encoder waits)."""
        while self._error is None:
            try:
                self._queue.put(Chunk(sid, index, 1, t, packet, None, flags), timeout=0.5)
                return
            except queue.Full:
                continue

    def _control(self, kind: str, timeout: float | None) -> None:
        for st in self._by_id if kind in ("flush", "close", "abort") else ():
            if st.encoder is not None:       # their packets are queued before the control
                st.encoder.flush(timeout) if kind == "flush" else \
                    st.encoder.stop(timeout, drain=kind == "close")
        ctl = Control(kind)
        self._queue.put(ctl, timeout=timeout)
        if not ctl.done.wait(timeout):
            raise TimeoutError(f"{self.path}: writer did not {kind} within {timeout} s")
        if ctl.error is not None:
            raise ctl.error
        if self._error is not None and kind != "abort":
            raise WriterError(f"writer thread failed: {self._error!r}") from self._error

    def flush(self, timeout: float | None = None) -> None:
        """Seal what is queued now into a block and wait until it is written."""
        self._check_open()
        self._control("flush", timeout)

    def publish(self, timeout: float | None = None) -> None:
        """Overwrite mode (and a deferred create): put this recording in place (of the old
        one, then removed) now, e.g. when recording starts.  close() does it at the
        latest; a no-op otherwise."""
        self._check_open()
        if self.mode == "overwrite" or self._target.deferred:
            self._control("publish", timeout)

    def close(self, timeout: float | None = None) -> None:
        """Drain the queue, seal, fsync and mark the recording closed (committed); an
        overwrite then replaces the old recording.  An append that appended nothing to
        a committed recording leaves it as it was."""
        if self._closed:
            return
        failure: BaseException | None = None
        try:
            self._control("close", timeout)
        except BaseException as exc:
            failure = exc
        self._closed = True
        self._thread.join(timeout)
        try:
            if failure is None and self._target.changes:
                stats = self.stats().as_dict()
                self._target.write_manifest(lambda: self.manifest.update(
                    state="closed", closed=time.time(), stats=stats))
                self._target.publish()
            elif failure is not None and self._target.root != self.path:
                log.error("%s: not committed, the recording it replaces stays; what was "
                          "written is in %s", self.path, self._target.root)
        finally:
            self._target.release()
        if failure is not None:
            raise failure

    def abort(self, timeout: float | None = None) -> None:
        """Stop without committing and undo this writer: remove what it created (a new
        recording, an overwrite not swapped in yet), cut an append back to the bytes
        that were there.  What existed before is left as it was."""
        if self._closed:
            raise WriterError(f"{self.path}: writer is closed (committed); nothing to abort")
        try:
            self._control("abort", timeout)
        finally:
            self._closed = True
            self._thread.join(timeout)
            self._target.abort()

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """True after close()."""
        return self._closed

    def stats(self) -> WriterStats:
        """Counters: blocks sealed, bytes, overflows, queue use, and per-stream counts."""
        written = self._segments.bytes_written if self._segments is not None else 0
        return WriterStats(blocks=self.blocks_sealed, bytes=written, overflows=self.overflows,
                           queue_high_water=self.queue_high_water, queued_bytes=self._queued_bytes,
                           streams={name: st.stats() for name, st in self._streams.items()})

    # -- writer thread -----------------------------------------------------------
    def _run(self) -> None:
        items: list[Chunk] = []
        size = 0
        deadline = 0.0
        while True:
            timeout = None if not items else max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is MANIFEST:
                self._write_deferred()
                continue
            if isinstance(item, Control) or item is None or self._error is not None:
                if isinstance(item, Control) and item.kind == "abort":
                    self._finish(abort=True)          # what is queued is dropped
                    item.done.set()
                    return
                if self._error is None and items:
                    ended = isinstance(item, Control) and item.kind in ("flush", "close")
                    items, size = self._seal(items, whole_gops=not ended)
                    deadline = time.monotonic() + self.block_s
                if isinstance(item, Control):
                    self._write_deferred()
                    if item.kind == "close":
                        self._finish()
                        item.done.set()
                        return
                    if item.kind == "publish":
                        self._publish(item)
                    item.done.set()
                continue
            if isinstance(item.payload, np.ndarray):     # (encoder packets are not counted)
                with self._lock:
                    self._queued_bytes -= item.payload.nbytes
            try:
                st = self._by_id[item.stream]
                if st.codec and st.encoder is None and st.intake is None:
                    payload, frames = encode_frames(item.payload, st.codec)
                    item = dataclasses.replace(item, payload=payload, frames=frames)
                if not items:
                    deadline = time.monotonic() + self.block_s
                items.append(item)
                size += len(item.payload)
                if size >= self.block_bytes:
                    items, size = self._seal(items, whole_gops=True)
                    deadline = time.monotonic() + self.block_s
            except BaseException as exc:  # keep serving flush/close so callers never hang
                self._fail(exc)

    def _seal(self, items: list[Chunk], whole_gops: bool = False) -> tuple[list[Chunk], int]:
        """Seal ``items`` as a block; with ``whole_gops`` each compressed stream's open GOP
        (from its last keyframe) is kept back for the next block.  Returns what was kept
        back and its size."""
        items, kept = open_gops(items, _OPEN_GOP_BLOCKS * self.block_bytes) if whole_gops \
            else (items, [])
        kept_size = sum(len(c.payload) for c in kept)
        if not items:
            return kept, kept_size
        try:
            info = self._open_segments().append(items)
        except BaseException as exc:
            self._fail(exc)
            return [], 0
        self.blocks_sealed += 1
        for rec in info.records:
            st = self._by_id[rec.stream]
            st.sealed_stop = max(st.sealed_stop, rec.stop)
        self._write_deferred()
        if self.on_seal is not None:
            try:
                self.on_seal(info)
            except Exception:
                log.exception("%s: on_seal callback failed", self.path)
        return kept, kept_size

    def _write_deferred(self) -> None:
        """Writer thread: write the manifest with the changes deferred to it, if any."""
        if self._target.pending:
            try:
                self._target.write_manifest()
            except Exception as exc:   # applied in memory: the next write (or the commit) has it
                log.warning("%s: could not write the manifest: %s", self.path, exc)

    def _publish(self, ctl: Control) -> None:
        def moved(path: Path) -> None:
            if self._segments is not None:
                self._segments.root = path    # later segment files open there
        try:
            self._target.publish(moved)
        except Exception as exc:   # the new recording stays beside the old one, intact
            what = "replace the old recording" if self.mode == "overwrite" else "move it in place"
            ctl.error = WriterError(f"{self.path}: could not {what}: {exc}")

    def _finish(self, abort: bool = False) -> None:
        try:
            if self._segments is None and not abort and self._target.changes:
                self._open_segments()         # a committed recording has its index file
            if self._segments is not None:
                self._segments.close(durable=not abort)
        except BaseException as exc:
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        if self._error is None:
            self._error = exc
            log.error("%s: writer thread failed: %r", self.path, exc)
