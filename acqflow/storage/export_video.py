"""Export a video stream to MKV, MP4, MOV or AVI with PyAV (imported lazily), at true times.

Only stored frames are written (a gap repeats nothing), each at its time
(:func:`frame_times`): on a regular grid (:mod:`.timebase`) frame ``i`` is at
``(i - first) / rate``; otherwise (a pause, a clock step, drift past the tolerance)
at its stored time, as a variable frame rate.  Time resolution: MP4/MOV 1/90000 s
(1/60000 s with the default ``mp4v`` codec, whose time base is capped), MKV 1 ms, AVI
one frame slot (AVI has a fixed rate: a pause is written as empty frames, which
readers show as the previous frame held).  The first frame is at 0; the container's
``comment`` metadata holds its absolute time (Unix s).  Codecs (``fourcc``): ``mp4v``
(MPEG-4 part 2, the default for .mp4/.mov), ``avc1`` (H.264), ``MJPG`` (.avi default),
``FFV1`` (lossless, the .mkv default) and ``png `` (lossless, AVI/MKV).  Colours follow
the stream's ``pixel_format`` param (:data:`PIXEL_FORMATS`; OpenCV's ``bgr`` when unset), so
a red frame plays red whatever the source's channel order.
"""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from acqflow.dataflow.paramcheck import must_be


from ..dataflow.shortrepr import short_repr
from .progress import progress_bar
from .stored import StoredStream
from .timebase import sample_times, timebase
from .export import atomic_export

__all__ = ["to_video", "frame_times", "frame_format", "VIDEO_FOURCC", "VIDEO_CODECS",
           "PIXEL_FORMATS"]

VIDEO_FOURCC = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "FFV1", ".mov": "mp4v"}
# fourcc -> (FFmpeg encoder, pixel format for colour, for grayscale)
_MPEG4, _H264 = ("mpeg4", "yuv420p", "yuv420p"), ("libx264", "yuv420p", "yuv420p")
VIDEO_CODECS = {"mp4v": _MPEG4, "XVID": _MPEG4, "DIVX": _MPEG4, "avc1": _H264, "H264": _H264,
                "MJPG": ("mjpeg", "yuvj420p", "yuvj420p"), "FFV1": ("ffv1", "bgr0", "gray"),
                "png ": ("png", "rgb24", "gray")}
_TIME_BASE = {"mpeg4": Fraction(1, 60000)}      # MPEG-4 part 2 caps the denominator at 65535
# a stream's pixel_format -> channel order of its colour frames (OpenCV's BGR when unset;
# gray frames are gray whatever it says, and GRAY2BGR's output is OpenCV's BGR)
_ORDER = {"bgr": "bgr", "bgra": "bgr", "rgb": "rgb", "rgba": "rgb", "gray": "bgr"}
PIXEL_FORMATS = tuple(_ORDER)


def _av() -> ModuleType:
    try:
        import av
    except ImportError:
        raise ImportError("video export needs PyAV: pip install 'acqflow[video]'") from None
    return av


def frame_times(stream: StoredStream, start: int | None = None, stop: int | None = None,
                tolerance: float | None = None,
                times: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(indexes, times)`` of the stored frames of ``[start, stop)``: grid times on a
    regular grid, else stored times (recorder's clock; ``times``: the stored time model's
    by default, when there is one, see :mod:`.timebase`).  What :func:`to_video` writes."""
    start, stop = stream.bounds(start, stop)
    a = stream.record_table(start, stop)
    idx = np.concatenate([np.arange(max(int(s), start), min(int(e), stop))
                          for s, e in zip(a["start"], a["stop"])] or [np.zeros(0, np.int64)])
    tb = timebase(stream, start, stop, tolerance, times=times)
    if tb.regular and tb.segments:
        return idx, np.asarray(tb.segments[0].time(idx), float)
    got = np.concatenate(list(sample_times(stream, start, stop, times=times)) or [np.zeros(0)])
    return idx, got[idx - start]


def frame_format(stream: StoredStream, pixel_format: str | None = None) -> str:
    """PyAV format of ``stream``'s frames (``gray``, ``bgr24``, ``rgb24``, ``bgra``, ``rgba``):
    channel order from ``pixel_format`` (default: the stream's param, else OpenCV's BGR),
    channel count from the frame shape."""
    channels = stream.shape[3] if len(stream.shape) == 4 else 1
    name = pixel_format if pixel_format is not None else stream.params.get("pixel_format")
    order = _ORDER.get(name.lower()) if isinstance(name, str) else "bgr" if name is None else None
    if order is None:
        raise ValueError(f"stream {stream.name!r}: unknown pixel_format {short_repr(name)}; "
                         f"video export knows {', '.join(PIXEL_FORMATS)} (pass pixel_format=)")
    return {1: "gray", 3: order + "24", 4: order + "a"}[channels]


def _codec(path: Path, fourcc: str | None) -> tuple[str, str, str]:
    suffix = path.suffix.lower()
    code = fourcc or VIDEO_FOURCC.get(suffix)
    if code is None:
        raise ValueError(f"unknown video suffix {suffix!r} for {path}; use "
                         f"{', '.join(VIDEO_FOURCC)} or pass fourcc=")
    if len(code) != 4:
        raise ValueError(f"fourcc must have 4 characters, got {code!r}")
    found = VIDEO_CODECS.get(code) or {k.lower(): v for k, v in VIDEO_CODECS.items()}.get(
        code.lower())
    if found is None:
        raise ValueError(f"unsupported fourcc {code!r}; use one of "
                         f"{', '.join(map(repr, VIDEO_CODECS))}")
    return found


@atomic_export     # overwrite=False: an existing file is refused; written beside, renamed
def to_video(stream: StoredStream, path: str | os.PathLike, start: int | None = None,
             stop: int | None = None, fourcc: str | None = None, fps: float | None = None,
             progress: bool | None = None, tolerance: float | None = None,
             pixel_format: str | None = None, times: str | None = None) -> Path:
    """Write the stored frames of ``[start, stop)`` of a uint8 video stream at their times
    (module doc).  ``fps``: write the frames back to back at this rate instead (their
    times are then not kept); ``tolerance``: see :func:`.timebase.timebase`;
    ``pixel_format``: the frames' channel order when the stream's param is missing or wrong;
    ``times``: see :func:`frame_times`."""
    if stream.streamtype != "video" or len(stream.shape) not in (3, 4):
        raise ValueError(f"video export is for video streams, {stream.name!r} is "
                         f"{stream.streamtype} with shape {stream.shape}")
    if stream.dtype != np.uint8:
        raise ValueError(f"video export needs uint8 frames, {stream.name!r} has {stream.dtype}")
    channels = stream.shape[3] if len(stream.shape) == 4 else 1
    if channels not in (1, 3, 4):
        raise ValueError(f"video export needs 1, 3 or 4 channels, {stream.name!r} has {channels}")
    fmt = frame_format(stream, pixel_format)
    if fps is not None and not (isinstance(fps, (int, float)) and 0 < fps < 1e6):
        must_be("fps", "a number > 0 and below 1e6", fps)
    path = Path(path)
    codec, colour, gray = _codec(path, fourcc)
    av = _av()
    start, stop = stream.bounds(start, stop)
    idx, frame_t = frame_times(stream, start, stop, tolerance, times)
    rate = Fraction(fps or stream.sample_rate).limit_denominator(1001)
    avi = path.suffix.lower() == ".avi"
    tbase = 1 / rate if avi or fps else _TIME_BASE.get(codec, Fraction(1, 90000))
    if fps:
        pts = np.arange(len(idx), dtype=np.int64)
    else:
        pts = times_to_pts(frame_t, tbase)
    container = open_container(av, path)
    bar = progress_bar(stop - start, f"export {stream.name}", "frame", progress)
    try:
        out = container.add_stream(codec, rate=rate)
        out.width, out.height = stream.shape[2], stream.shape[1]
        out.pix_fmt = gray if channels == 1 else colour
        out.codec_context.time_base = tbase
        out.time_base = tbase
        if len(frame_t):
            container.metadata["comment"] = (f"acqflow stream {stream.name!r}: first frame "
                                             f"at {float(frame_t[0])!r} s (Unix time)")
        k = 0
        for s, data in stream.chunks(start, stop):
            if channels == 1:            # (n, h, w, 1) -> (n, h, w): PyAV's gray is 2-D
                data = data.reshape(data.shape[:3])
            for f in np.ascontiguousarray(data):
                frame = av.VideoFrame.from_ndarray(f, format=fmt)
                frame.pts, frame.time_base = int(pts[k]), tbase
                container.mux(out.encode(frame))
                k += 1
            bar.update(len(data))
        container.mux(out.encode(None))
    finally:
        container.close()
        bar.close()
    return path


def times_to_pts(t: np.ndarray, tbase: Fraction) -> np.ndarray:
    """Presentation stamps in ``tbase`` ticks from the first frame's time, each above the
    previous one (see :func:`_strictly_increasing`)."""
    return _strictly_increasing(np.round((t - (t[0] if len(t) else 0.0)) / float(tbase))
                                .astype(np.int64))


def open_container(av: Any, path: str | os.PathLike) -> Any:
    """A PyAV output container; ValueError with a one-line reason when it cannot be opened."""
    try:
        return av.open(os.fspath(path), "w")
    except Exception as exc:      # av.FFmpegError and OSError: a one-line reason
        raise ValueError(f"cannot write video {path}: {exc}") from None


def _strictly_increasing(pts: np.ndarray) -> np.ndarray:
    """``pts`` raised where needed so each is above the previous (two frames whose times
    round to one tick move one tick apart)."""
    k = np.arange(len(pts))
    return np.maximum.accumulate(pts - k) + k
