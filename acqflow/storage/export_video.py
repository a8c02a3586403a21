"""Export a video stream to MP4 or AVI with OpenCV's VideoWriter (imported lazily).

Frames are written as stored (raw or decoded from their per-frame codec), in
OpenCV's channel order (BGR), at the stream's sample rate.  Frames missing in a
gap repeat the previous frame (black before the first), so the file's timeline
stays the recording's.  Formats: ``.mp4`` (fourcc ``mp4v``), ``.avi`` (``MJPG``);
pass ``fourcc='FFV1'`` (AVI/MKV) or ``'png '`` (AVI) for lossless files.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .progress import progress_bar
from .stored import StoredStream

__all__ = ["to_video", "VIDEO_FOURCC"]

VIDEO_FOURCC = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "FFV1", ".mov": "mp4v"}


def _cv2():
    try:
        import cv2
    except ImportError:
        raise ImportError("video export needs OpenCV: pip install 'acqflow[video]'") from None
    return cv2


def _as_bgr(cv2, frames: np.ndarray, channels: int) -> np.ndarray:
    if channels == 4:
        return np.stack([cv2.cvtColor(f, cv2.COLOR_BGRA2BGR) for f in frames])
    return frames.reshape(frames.shape[:3]) if channels == 1 else frames


def to_video(stream: StoredStream, path: str | os.PathLike, start: int | None = None,
             stop: int | None = None, fourcc: str | None = None, fps: float | None = None,
             progress: bool | None = None) -> Path:
    """Write frames ``[start, stop)`` of a uint8 video stream to ``path`` (.mp4/.avi)."""
    if stream.streamtype != "video" or len(stream.shape) not in (3, 4):
        raise ValueError(f"video export is for video streams, {stream.name!r} is "
                         f"{stream.streamtype} with shape {stream.shape}")
    if stream.dtype != np.uint8:
        raise ValueError(f"video export needs uint8 frames, {stream.name!r} has {stream.dtype}")
    channels = stream.shape[3] if len(stream.shape) == 4 else 1
    if channels not in (1, 3, 4):
        raise ValueError(f"video export needs 1, 3 or 4 channels, {stream.name!r} has {channels}")
    suffix = Path(path).suffix.lower()
    code = fourcc or VIDEO_FOURCC.get(suffix)
    if code is None:
        raise ValueError(f"unknown video suffix {suffix!r} for {path}; use "
                         f"{', '.join(VIDEO_FOURCC)} or pass fourcc=")
    if len(code) != 4:
        raise ValueError(f"fourcc must have 4 characters, got {code!r}")
    cv2 = _cv2()
    h, w = stream.shape[1], stream.shape[2]
    rate = float(fps or stream.sample_rate)
    writer = cv2.VideoWriter(os.fspath(path), cv2.VideoWriter_fourcc(*code), rate, (w, h),
                             channels != 1)
    if not writer.isOpened():
        raise ValueError(f"OpenCV cannot write {path} with fourcc {code!r} (try another "
                         f"fourcc or suffix)")
    start, stop = stream.bounds(start, stop)
    last = np.zeros((h, w, 3) if channels != 1 else (h, w), np.uint8)
    pos = start
    bar = progress_bar(stop - start, f"export {stream.name}", "frame", progress)
    try:
        for s, data in stream.chunks(start, stop):
            for _ in range(s - pos):      # a gap: hold the previous frame
                writer.write(last)
            frames = _as_bgr(cv2, np.ascontiguousarray(data), channels)
            for f in frames:
                writer.write(f)
            if len(frames):
                last = frames[-1]
            bar.update(s + len(data) - pos)
            pos = s + len(data)
        for _ in range(stop - pos):
            writer.write(last)
        bar.update(stop - pos)
    finally:
        writer.release()
        bar.close()
    return Path(path)
