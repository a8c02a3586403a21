"""VideoEncoder: one thread per compressed video stream, with its own bounded frame queue.

The writer's ``write()`` hands frames over without waiting (:meth:`VideoEncoder.put`
returns False when the queue is full: the caller counts the drop as a gap).  The thread
encodes each frame, and hands every packet (index, capture time, keyframe flag) to the
writer thread, which stores it as one record.  When the queue is half full the encoder
logs that it falls behind and moves to the next faster preset (a new encoder: a new
closed GOP), before any frame is dropped.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Callable

import numpy as np

from .format import Chunk
from .videocodec import av_module, faster_preset, open_encoder

__all__ = ["VideoEncoder", "KEYFRAME", "open_gops"]

log = logging.getLogger("acqflow.storage")
KEYFRAME = 1          # record flag bit: the packet is a keyframe (a GOP starts there)

Emit = Callable[[int, int, float, bytes, int], None]   # (sid, index, time, packet, flags)


def open_gops(items: list[Chunk], limit: int | None = None) -> tuple[list[Chunk], list[Chunk]]:
    """Split the writer's pending chunks into what can be sealed and each packet stream's
    open GOP (from its last keyframe on), kept for the next block so that every block
    starts each stream on a keyframe; past ``limit`` bytes kept (a source whose keyframes
    are rare), nothing is kept: memory stays bounded."""
    last_key = {c.stream: k for k, c in enumerate(items) if c.flags & KEYFRAME}
    if not last_key:
        return items, []
    cut = [k >= last_key.get(c.stream, len(items)) for k, c in enumerate(items)]
    kept = [it for it, c in zip(items, cut) if c]
    if limit is not None and sum(len(c.payload) for c in kept) > limit:
        return items, []
    return [it for it, c in zip(items, cut) if not c], kept


class VideoEncoder:
    """Encoder thread of stream ``sid``; ``emit`` receives its packets in frame order."""

    def __init__(self, sid: int, name: str, codec: dict[str, Any], shape: tuple[int, ...],
                 rate: float, emit: Emit, on_error: Callable[[BaseException], None]):
        self.sid, self.name, self.codec = sid, name, codec
        self.height, self.width = int(shape[1]), int(shape[2])
        self.rate = float(rate)
        self.emit, self.on_error = emit, on_error
        self.preset: str | None = codec.get("preset")
        self.queue: queue.Queue = queue.Queue(maxsize=int(codec["queue"]))
        self.slowdowns = 0
        self.frames = 0
        self.packets = 0
        self.high_water = 0
        self.encode_cpu_s = 0.0      # CPU of the encoder thread (encoding, handing packets over)
        self.prepare_cpu_s = 0.0     # CPU of put(): the callers' copies into encoder frames
        self._ctx: Any = None
        self._pending: dict[int, tuple[int, float]] = {}   # pts -> (index, time)
        self._pts = 0
        self._av = av_module()
        self._wrap = codec["pix_fmt"] != codec["input"]      # see put()
        self._warned_fastest = False
        self._speedup = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"acqflow-encoder:{name}")
        self._thread.start()

    def stats(self) -> dict[str, Any]:
        """Encoder counters for the writer's stats."""
        return {"encoder": self.codec["encoder"], "preset": self.preset,
                "slowdowns": self.slowdowns, "frames_encoded": self.frames,
                "packets": self.packets, "encoder_queue_high_water": self.high_water,
                "encoder_cpu_s": self.encode_cpu_s + self.prepare_cpu_s}

    # -- caller side ------------------------------------------------------------
    def put(self, start: int, t: float, frames: np.ndarray) -> bool:
        """Queue frames ``start, start+1, ...`` as encoder frames (the chunk's time ``t`` is
        its last frame's); False when the queue is full (nothing queued).  ``frames`` is the
        writer's own array, never modified: where the encoder converts the pixel format
        (yuv420p from BGR: the usual case) the frames only wrap it, and the conversion in
        the encoder thread is the one copy; otherwise they are copied here."""
        if self.queue.full():
            return False
        c0 = time.thread_time()
        fmt, av = self.codec["input"], self._av
        if fmt == "gray" and frames.ndim == 4:
            frames = frames[..., 0]
        if self._wrap and frames.flags.c_contiguous:
            prepared = [av.VideoFrame.from_numpy_buffer(f, format=fmt) for f in frames]
        else:     # the encoder may keep the frame itself: it gets FFmpeg's own copy
            prepared = [av.VideoFrame.from_ndarray(f, format=fmt) for f in frames]
        self.prepare_cpu_s += time.thread_time() - c0
        try:
            self.queue.put_nowait((start, t, prepared))
        except queue.Full:
            return False
        backlog = self.queue.qsize()
        self.high_water = max(self.high_water, backlog)
        if backlog * 2 >= self.queue.maxsize and not self._speedup.is_set():
            self._behind(backlog)
        return True

    def _behind(self, backlog: int) -> None:
        """Half-full queue: say so now (before any drop) and have the thread move to the
        next faster preset before its next frame."""
        size = self.queue.maxsize
        faster = faster_preset(self.preset) if self.preset else None
        if faster is not None:
            log.warning("encoder of %r falls behind (%d of %d frames queued): preset %s -> %s",
                        self.name, backlog, size, self.preset, faster)
            self._speedup.set()
        elif not self._warned_fastest:
            self._warned_fastest = True
            log.warning("encoder of %r falls behind (%d of %d frames queued) at its fastest "
                        "setting; frames are dropped (counted gaps) if the queue fills",
                        self.name, backlog, size)

    def _control(self, kind: str, timeout: float | None) -> None:
        done = threading.Event()
        self.queue.put((kind, done, None), timeout=timeout)
        if not done.wait(timeout):
            raise TimeoutError(f"encoder of {self.name!r} did not {kind} within {timeout} s")

    def flush(self, timeout: float | None = None) -> None:
        """Encode what is queued, end the GOP and hand over its packets; wait for it."""
        if self._thread.is_alive():
            self._control("flush", timeout)

    def stop(self, timeout: float | None = None, drain: bool = True) -> None:
        """Flush (when ``drain``) and end the thread; queued frames are dropped otherwise."""
        if not self._thread.is_alive():
            return
        if not drain:
            while True:
                try:
                    self.queue.get_nowait()
                except queue.Empty:
                    break
        self._control("stop" if drain else "abort", timeout)
        self._thread.join(timeout)

    # -- encoder thread ---------------------------------------------------------
    def _run(self) -> None:
        failed = False
        while True:
            item = self.queue.get()
            if isinstance(item[0], str):
                kind, done, _ = item
                if kind != "abort" and not failed:
                    try:
                        self._end_gop()
                    except BaseException as exc:   # reported; the caller is released
                        failed = True
                        self.on_error(exc)
                self.encode_cpu_s = time.thread_time()
                done.set()
                if kind in ("stop", "abort"):
                    return
                continue
            if failed:
                continue
            try:
                self._keep_up()
                self._encode(*item)
            except BaseException as exc:
                failed = True
                self.on_error(exc)
            self.encode_cpu_s = time.thread_time()

    def _encode(self, start: int, t: float, frames: list) -> None:
        n = len(frames)
        if self._ctx is None:
            self._ctx = open_encoder(self.codec, self.width, self.height, self.rate,
                                     self.preset)
        dt = 1.0 / self.rate if self.rate > 0 else 0.0
        for j, frame in enumerate(frames):
            frame.pts = self._pts
            self._pending[self._pts] = (start + j, t - (n - 1 - j) * dt)
            self._pts += 1
            self._hand_over(self._ctx.encode(frame))
        self.frames += n

    def _hand_over(self, packets: list) -> None:
        for packet in packets:
            index, t = self._pending.pop(int(packet.pts))
            self.packets += 1
            self.emit(self.sid, index, t, bytes(packet), KEYFRAME if packet.is_keyframe else 0)

    def _end_gop(self) -> None:
        """Flush the encoder (its last packets out) and drop it: the next frame opens a
        new one, starting a new closed GOP."""
        if self._ctx is not None:
            ctx, self._ctx = self._ctx, None
            self._hand_over(ctx.encode(None))
        self._pending.clear()

    def _keep_up(self) -> None:
        """Switch to the faster preset asked for by :meth:`_behind` (a new GOP)."""
        if self._speedup.is_set():
            self._end_gop()
            self.preset = faster_preset(self.preset) or self.preset
            self.slowdowns += 1
            self._speedup.clear()
