"""Reading a compressed video stream: a cached decoder per stream, decoding from the
nearest keyframe, with a small decoded-frame cache.

Every stored record is one packet (one frame).  Reading record ``k`` decodes from the
keyframe at or before it, unless the decoder already stands between that keyframe and
``k`` (reading in a row never seeks again) or frame ``k`` is in the cache.  Packets come
from the recording's block ranges (:meth:`Recording.record_payloads`), so remote
recordings read through the local cache as any stream does.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Iterator

import numpy as np

from .errors import StorageError
from .index import StreamTable
from .videocodec import av_module, decoder_threads, frame_lag, open_decoder
from .videoenc import KEYFRAME

__all__ = ["PacketDecoder", "CACHE_BYTES"]

CACHE_BYTES = 64 << 20        # decoded frames kept per stream
_BATCH = 16                   # frames decoded per lock hold

Payloads = Callable[[int, int], Iterator[tuple[int, memoryview]]]


class PacketDecoder:
    """Decodes records of one stored packet stream (thread-safe, one decoder state)."""

    def __init__(self, name: str, codec: dict[str, Any], shape: tuple[int, ...],
                 table: Callable[[], StreamTable], payloads: Payloads,
                 cache_bytes: int = CACHE_BYTES, threads: int | None = None):
        self.name, self.codec, self.shape = name, codec, tuple(shape)
        self._table, self._payloads = table, payloads
        self._fmt = codec["input"]
        self._ctx: Any = None
        self._next: int | None = None        # record the decoder takes next
        self._out: int | None = None         # record whose frame comes out next
        self.threads = decoder_threads(codec) if threads is None else max(1, int(threads))
        self._lag = frame_lag(codec, self.threads)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_bytes = 0
        self.cache_bytes = int(cache_bytes)
        self._keys = np.zeros(0, np.int64)
        self._keys_for = -1
        self._lock = threading.Lock()
        self.seeks = 0                       # decodes started again at a keyframe
        self._av = av_module()
        # one pixel-format converter for every frame: PyAV's frame.to_ndarray(format=...)
        # builds a new swscale context per decoded frame (1080p to BGR: 1.0 ms, 0.65 reused)
        self._reformat = self._av.video.reformatter.VideoReformatter().reformat

    def frames(self, k0: int, k1: int) -> Iterator[np.ndarray]:
        """Decoded frames of records ``k0..k1-1`` in order (cached arrays: read-only)."""
        k = k0
        while k < k1:
            batch = self._decode(k, min(k1, k + _BATCH))
            yield from batch
            k += len(batch)

    def keyframe_before(self, k: int) -> int:
        """Record number of the keyframe at or before record ``k``."""
        flags = self._table().arrays["flags"]
        if self._keys_for != len(flags):
            self._keys = np.flatnonzero(flags & KEYFRAME)
            self._keys_for = len(flags)
        pos = int(np.searchsorted(self._keys, k, "right")) - 1
        if pos < 0:
            raise StorageError(f"stream {self.name!r}: no keyframe at or before record {k}; "
                               "its frames cannot be decoded")
        return int(self._keys[pos])

    def _decode(self, k: int, stop: int) -> list[np.ndarray]:
        with self._lock:
            hit = self._cache.get(k)
            if hit is not None:
                self._cache.move_to_end(k)
                out = [hit]
                while k + len(out) < stop and (k + len(out)) in self._cache:
                    out.append(self._cache[k + len(out)])
                return out
            key = self.keyframe_before(k)
            if self._ctx is None or self._out is None or not key <= self._out <= k:
                if self._ctx is not None and self._out is not None:
                    self._ctx.flush_buffers()        # the same decoder, at a new keyframe
                else:
                    self._ctx = open_decoder(self.codec, self.shape[2], self.shape[1],
                                             self.threads)
                self._next = self._out = key
                self.seeks += 1
            return self._run(k, stop)

    def _run(self, k: int, stop: int) -> list[np.ndarray]:
        """Feed records from ``self._next`` on until frames ``[k, stop)`` are out (a
        frame-threaded decoder gives frame j once it has later packets: up to its lag past
        ``stop`` are fed, their frames kept); frames of ``[k, stop)``."""
        av, ctx = self._av, self._ctx
        got: dict[int, np.ndarray] = {}
        start, out = self._next, self._out
        assert start is not None and out is not None   # (set by _decode before a run)
        self._next = self._out = None        # unknown until this run completes
        last = min(len(self._table()), stop + self._lag)
        for j, data in self._payloads(start, last):
            if out >= stop:
                break
            # FFmpeg owns the packet's buffer: a frame-threaded decoder freed while a worker
            # still holds a Python-owned packet deadlocks on the GIL (PyAV)
            packet = av.Packet(len(data))
            memoryview(packet)[:] = data
            packet.pts = packet.dts = j
            start = j + 1
            try:
                decoded = ctx.decode(packet)
            except av.FFmpegError as exc:
                self._ctx = None
                raise StorageError(f"stream {self.name!r}: record {j} does not decode: "
                                   f"{str(exc)[:160]}") from None
            for frame in decoded:            # pre-roll frames are decoded, not converted
                out = int(frame.pts) + 1
                if frame.pts >= k:
                    got[int(frame.pts)] = self._array(frame)
        if out < stop:                       # the stream's end: drain the decoder
            for frame in ctx.decode(None):
                if frame.pts >= k:
                    got[int(frame.pts)] = self._array(frame)
            self._ctx = None
        else:
            self._next, self._out = start, out
        for j, arr in got.items():
            self._keep(j, arr)
        try:
            return [got[j] for j in range(k, stop)]
        except KeyError as exc:
            raise StorageError(f"stream {self.name!r}: record {exc.args[0]} did not decode "
                               "(damaged packet data?)") from None

    def _array(self, frame: Any) -> np.ndarray:
        if self._fmt == "gray" and frame.format.name in ("yuv420p", "yuvj420p"):
            arr = frame.to_ndarray()[:frame.height]     # the Y plane, as encoded (no range change)
        else:
            arr = self._reformat(frame, format=self._fmt).to_ndarray()
        arr = arr.reshape(self.shape[1:])
        arr.flags.writeable = False
        return arr

    def _keep(self, j: int, arr: np.ndarray) -> None:
        if arr.nbytes > self.cache_bytes:
            return
        self._cache[j] = arr
        self._cache.move_to_end(j)
        self._cache_bytes += arr.nbytes
        while self._cache_bytes > self.cache_bytes:
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= old.nbytes

    def clear(self) -> None:
        """Drop the decoder and the cached frames."""
        with self._lock:
            self._ctx, self._next, self._out = None, None, None
            self._cache.clear()
            self._cache_bytes = 0
