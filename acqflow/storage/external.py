"""Import a WAV or video file as a recording without copying its samples.

The new recording holds only ``manifest.json``: its one stream carries an
``external`` entry pointing at the original file (absolute path, size and mtime
at import time) plus what is needed to slice it:

* WAV (PCM 8/16/32-bit integer, 32/64-bit float): byte offset of the ``data``
  chunk and bytes per frame; ``s[i:j]`` is one ``pread`` of the original file.
* video (anything OpenCV reads): frame count (counted at import by grabbing every
  frame), size and rate; frames are read through ``cv2.VideoCapture`` (seeking
  only when the read is not sequential), uint8 BGR as OpenCV gives them.  A
  variable-frame-rate file's pauses (a frame's time off the grid of the previous
  ones: :mod:`.timebase`'s rule) are kept as ``segments``: ``[first frame, its
  time]`` of each run, so each frame keeps its time.

The stream is cut into virtual chunks (``chunk`` samples, default about 1 s, and
at each segment) whose timestamps are ``start_time + (last sample) / rate`` (plus
the segment's offset), so every StoredStream method
works (index and time slicing, readers, merge, export, the Player).  Limits: the
file must stay where it was; if its size or mtime changes, opening or reading
raises :class:`ExternalFileChangedError` (re-import it).  Such a recording is only
readable on a machine where that path holds the file (``upload`` copies the
manifest, not the media).
"""
from __future__ import annotations

import os
import struct
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import numpy as np

from .errors import RecordingExistsError, StorageError
from .index import StreamTable
from .manifest import MANIFEST, dumps, new_manifest, stream_dtype, stream_entry
from .timebase import default_tolerance

__all__ = ["import_media", "ExternalFileChangedError", "ExternalStream", "open_external"]

_WAV_DTYPES = {(1, 8): "u1", (1, 16): "<i2", (1, 32): "<i4", (3, 32): "<f4", (3, 64): "<f8"}


class ExternalFileChangedError(StorageError):
    """The file an imported stream indexes is missing or changed since the import."""


def _stat(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def _parse_wav(path: Path) -> dict[str, Any]:
    """Format and ``data`` chunk location of a RIFF/WAVE file."""
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise ValueError(f"{path} is not a RIFF/WAVE file")
        fmt = None
        while True:
            ch = f.read(8)
            if len(ch) < 8:
                raise ValueError(f"{path}: no 'data' chunk")
            cid, size = ch[:4], struct.unpack("<I", ch[4:])[0]
            if cid == b"fmt ":
                raw = f.read(size + (size & 1))
                tag, channels, rate, _byte_rate, align, bits = struct.unpack("<HHIIHH", raw[:16])
                if tag == 0xFFFE and size >= 40:           # WAVE_FORMAT_EXTENSIBLE
                    tag = struct.unpack("<H", raw[24:26])[0]
                fmt = (tag, channels, rate, align, bits)
            elif cid == b"data":
                if fmt is None:
                    raise ValueError(f"{path}: 'data' chunk before 'fmt '")
                tag, channels, rate, align, bits = fmt
                dtype = _WAV_DTYPES.get((tag, bits))
                if dtype is None:
                    raise ValueError(f"{path}: WAV format tag {tag} with {bits}-bit samples is "
                                     "not supported (PCM 8/16/32-bit, float 32/64-bit)")
                offset = f.tell()
                size = min(size, os.fstat(f.fileno()).st_size - offset)
                return {"data_offset": offset, "frame_bytes": align, "n": size // align,
                        "dtype": dtype, "channels": channels, "rate": rate}
            else:
                f.seek(size + (size & 1), os.SEEK_CUR)


def _cv2() -> ModuleType:
    try:
        import cv2
    except ImportError:
        raise ImportError("importing video needs OpenCV: pip install 'acqflow[video]'") from None
    return cv2


def _probe_video(path: Path) -> dict[str, Any]:
    cv2 = _cv2()
    cap = cv2.VideoCapture(os.fspath(path))
    try:
        ok, frame = cap.read()
        # FFmpeg renders almost any bytes as a "tty" text video: require a real codec
        codec = int(cap.get(cv2.CAP_PROP_FOURCC))
        if not cap.isOpened() or not ok or codec == 0:
            raise ValueError(f"{path}: neither a WAV file nor a video OpenCV can read")
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        times = [cap.get(cv2.CAP_PROP_POS_MSEC) / 1000]
        while cap.grab():            # exact count (the container's count may be wrong)
            times.append(cap.get(cv2.CAP_PROP_POS_MSEC) / 1000)
    finally:
        cap.release()
    if fps <= 0:
        raise ValueError(f"{path}: the video has no frame rate")
    info = {"n": len(times), "rate": float(fps), "shape": list(frame.shape),
            "dtype": str(frame.dtype)}
    segments = _frame_segments(np.asarray(times, float), float(fps))
    if len(segments) > 1:
        info["segments"] = segments
    return info


def _frame_segments(times: np.ndarray, rate: float) -> list[list[float]]:
    """``[first frame, its time]`` of each run of frames on one grid of ``rate`` (a
    variable-frame-rate file's pauses start new runs; see :mod:`.timebase`)."""
    times = times - times[0]
    origin = times - np.arange(len(times)) / rate
    steps = np.nonzero(np.abs(np.diff(origin)) > default_tolerance(rate))[0] + 1
    return [[int(i), float(times[i])] for i in np.r_[0, steps]]


def import_media(src: str | os.PathLike, dest: str | os.PathLike, name: str | None = None,
                 start_time: float | None = None, chunk: int | None = None) -> Path:
    """Make recording ``dest`` (a new local directory) indexing WAV/video file ``src``.

    ``name``: the stream name (default ``audio`` for WAV, ``video`` otherwise);
    ``start_time``: time of the first sample (Unix seconds; default: the file's
    modification time minus its duration, since a file is last written when it ends,
    rather than 1970); ``chunk``: samples per virtual chunk.
    """
    src = Path(src).resolve()
    dest = Path(dest)
    if not src.is_file():
        raise FileNotFoundError(f"{src}: no such file to import")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise RecordingExistsError(f"{dest} already exists; import into a new directory")
    with open(src, "rb") as f:
        is_wav = f.read(12)[8:12] == b"WAVE"
    if is_wav:
        info = _parse_wav(src)
        kind, rate = "wav", float(info["rate"])
        params = {"streamtype": "analogsignal", "dtype": info["dtype"],
                  "shape": (-1, info["channels"]), "sample_rate": rate}
    else:
        info = _probe_video(src)
        kind, rate = "video", info["rate"]
        params = {"streamtype": "video", "dtype": info["dtype"], "shape": [-1] + info["shape"],
                  "sample_rate": rate, "pixel_format": "bgr"}    # as OpenCV decodes it
    size, mtime = _stat(os.fspath(src))
    if start_time is None:
        last = info["segments"][-1] if "segments" in info else [0, 0.0]
        start_time = mtime / 1e9 - (last[1] + ((info.get("n") or 0) - last[0]) / rate)
    entry = stream_entry(0, name or ("audio" if is_wav else "video"), params)
    entry["external"] = {"kind": kind, "path": str(src), "size": size, "mtime_ns": mtime,
                         "start_time": float(start_time),
                         "chunk": int(chunk or max(1, round(rate))),
                         **{k: v for k, v in info.items() if k in
                            ("data_offset", "frame_bytes", "n", "segments")}}
    manifest = new_manifest({"imported_from": str(src)}, {"imported_from": str(src)})
    manifest.update(state="closed", closed=time.time(), streams=[entry],
                    layout={"external": True})
    dest.mkdir(parents=True, exist_ok=True)
    (dest / MANIFEST).write_bytes(dumps(manifest))
    return dest


class ExternalStream:
    """Reads one imported stream's samples from its original file."""

    def __init__(self, entry: dict[str, Any]):
        self.entry = entry
        self.ext: dict[str, Any] = entry["external"]
        self.path = self.ext["path"]
        self.n = int(self.ext["n"])
        self.chunk = max(1, int(self.ext["chunk"]))
        self.dtype = stream_dtype(entry)
        self.shape = tuple(entry["shape"])
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._cap: Any = None
        self._pos = -1
        self.check()

    def check(self) -> None:
        """Raise ExternalFileChangedError when the file is gone or changed."""
        try:
            size, mtime = _stat(self.path)
        except FileNotFoundError:
            raise ExternalFileChangedError(
                f"stream {self.entry['name']!r} indexes {self.path}, which is missing; an "
                "imported recording needs its original file in place") from None
        if (size, mtime) != (self.ext["size"], self.ext["mtime_ns"]):
            raise ExternalFileChangedError(
                f"stream {self.entry['name']!r} indexes {self.path}, which changed since the "
                f"import (size {self.ext['size']} -> {size}, mtime_ns {self.ext['mtime_ns']} "
                f"-> {mtime}); import it again")

    def table(self) -> StreamTable:
        """Virtual chunks of ``chunk`` samples with their timestamps (a chunk ends where
        a run of frames on one grid does: a variable-rate video's pauses are kept)."""
        t = StreamTable()
        segs = np.asarray(self.ext.get("segments") or [[0, 0.0]], float).reshape(-1, 2)
        first = segs[:, 0].astype(np.int64)
        starts = np.unique(np.r_[np.arange(0, self.n, self.chunk, dtype=np.int64),
                                 first[(first > 0) & (first < self.n)]])
        stops = np.r_[starts[1:], self.n] if len(starts) else starts
        rate = float(self.entry["sample_rate"])
        seg = np.searchsorted(first, starts, "right") - 1
        zeros = np.zeros(len(starts), np.int64)
        t._arrays = {"start": starts, "n": stops - starts, "stop": stops,
                     "t": self.ext["start_time"] + segs[seg, 1] + (stops - 1 - first[seg]) / rate,
                     "block": zeros - 1, "poff": zeros, "nbytes": zeros, "crc": zeros,
                     "flags": zeros}
        t.frames = [None] * len(starts)
        return t

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` from the original file."""
        self.check()
        with self._lock:
            if self.ext["kind"] == "wav":
                return self._read_wav(start, stop)
            return self._read_video(start, stop)

    def _read_wav(self, start: int, stop: int) -> np.ndarray:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        fb = int(self.ext["frame_bytes"])
        want = (stop - start) * fb
        data = os.pread(self._fd, want, int(self.ext["data_offset"]) + start * fb)
        if len(data) != want:
            raise ExternalFileChangedError(f"{self.path}: short read at sample {start}")
        return np.frombuffer(data, self.dtype).reshape((stop - start,) + self.shape[1:])

    def _read_video(self, start: int, stop: int) -> np.ndarray:
        cv2 = _cv2()
        if self._cap is None:
            self._cap, self._pos = cv2.VideoCapture(self.path), 0
        if self._pos != start:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, start)
        out = np.empty((stop - start,) + self.shape[1:], self.dtype)
        for k in range(stop - start):
            ok, frame = self._cap.read()
            if not ok:
                self._pos = -1
                raise ExternalFileChangedError(f"{self.path}: cannot read frame {start + k}")
            out[k] = frame
        self._pos = stop
        return out

    def records(self, table: StreamTable, k0: int, k1: int) -> Iterator[np.ndarray]:
        """One array per virtual chunk ``k0..k1-1`` (as Recording._records yields)."""
        a = table.arrays
        for k in range(k0, k1):
            yield self.read(int(a["start"][k]), int(a["stop"][k]))

    def close(self) -> None:
        """Release the file / capture."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._cap is not None:
                self._cap.release()
                self._cap = None


def open_external(manifest: dict[str, Any]) -> dict[int, ExternalStream]:
    """ExternalStream per stream id for the imported streams of a manifest."""
    return {e["id"]: ExternalStream(e) for e in manifest.get("streams", [])
            if e.get("external")}
