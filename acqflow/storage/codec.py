"""Per-frame video codecs (PNG lossless, JPEG lossy) via OpenCV, imported lazily.

Each frame is encoded on its own so any frame of a stored video stays randomly
accessible.  ``None``/'raw' stores frames uncompressed and never imports cv2.  The
compressed codecs stored as packets (h264, hevc, ffv1) are :mod:`.videocodec`'s.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from acqflow.dataflow.paramcheck import did_you_mean, short as short_repr

from .videocodec import ALIASES, PACKET_CODECS, normalize_packet_codec

__all__ = ["CODECS", "normalize_codec", "encode_frames", "decode_frames"]

CODECS = {"png": ".png", "jpg": ".jpg", "jpeg": ".jpg", "mjpg": ".jpg"}


def _cv2() -> ModuleType:
    try:
        import cv2
    except ImportError:  # pragma: no cover - depends on the install
        raise ImportError("video codecs need OpenCV: pip install opencv-python-headless"
                          ) from None
    return cv2


def normalize_codec(codec: str | dict[str, Any] | None, streamtype: str,
                    shape: tuple[int, ...], pixel_format: str | None = None
                    ) -> dict[str, Any] | None:
    """Plain dict ``{'name': ..., 'quality'|'level': ...}`` (packet codecs: see
    :func:`.videocodec.normalize_packet_codec`) or None for raw frames."""
    if codec is None or codec == "raw":
        return None
    if not isinstance(codec, (str, dict)):
        raise ValueError(f"a codec is a name or a dict with 'name', got {short_repr(codec)}")
    spec = {"name": codec} if isinstance(codec, str) else dict(codec)
    name = str(spec.get("name", "")).lower()
    known = ("raw", *CODECS, *PACKET_CODECS)
    if name not in CODECS and name not in PACKET_CODECS and name not in ALIASES:
        raise ValueError(f"unknown video codec {short_repr(spec.get('name'))}; use one of "
                         f"{', '.join(known)}{did_you_mean(name, known)}")
    if streamtype != "video":
        raise ValueError(f"codec {name!r} only applies to video streams, not {streamtype!r}")
    if name not in CODECS:
        return normalize_packet_codec(spec, tuple(shape), pixel_format)
    channels = shape[3] if len(shape) == 4 else 1
    if CODECS[name] == ".jpg" and channels not in (1, 3):
        raise ValueError(f"JPEG frames need 1 or 3 channels, stream has {channels}")
    if CODECS[name] == ".png" and channels not in (1, 3, 4):
        raise ValueError(f"PNG frames need 1, 3 or 4 channels, stream has {channels}")
    out: dict[str, Any] = {"name": name}
    if CODECS[name] == ".jpg":
        out["quality"] = int(spec.get("quality", 90))
    else:
        out["level"] = int(spec.get("level", 1))
    return out


def encode_frames(frames: np.ndarray, codec: dict[str, Any]) -> tuple[bytes, list[int]]:
    """Encode each frame of ``frames`` (n, h, w[, c]); returns bytes and frame sizes."""
    cv2 = _cv2()
    ext = CODECS[codec["name"]]
    if ext == ".jpg":
        flags = [cv2.IMWRITE_JPEG_QUALITY, codec["quality"]]
    else:
        flags = [cv2.IMWRITE_PNG_COMPRESSION, codec["level"]]
    parts, sizes = [], []
    for frame in frames:
        ok, buf = cv2.imencode(ext, np.ascontiguousarray(frame), flags)
        if not ok:
            raise ValueError(f"OpenCV could not encode a {frame.shape} frame as {ext}")
        parts.append(buf.tobytes())
        sizes.append(len(parts[-1]))
    return b"".join(parts), sizes


def decode_frames(data: bytes | memoryview, sizes: list[int], shape: tuple[int, ...]
                  ) -> np.ndarray:
    """Decode frames encoded by :func:`encode_frames` into (n,) + shape[1:] uint8."""
    cv2 = _cv2()
    out = np.empty((len(sizes),) + tuple(shape[1:]), np.uint8)
    pos = 0
    for k, size in enumerate(sizes):
        buf = np.frombuffer(data, np.uint8, size, pos)
        frame = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        if frame is None:
            raise ValueError(f"frame {k} of a record could not be decoded")
        if frame.size != out[k].size:
            raise ValueError(f"frame {k} of a record decodes to shape {frame.shape}, the "
                             f"stream's frames are {out.shape[1:]}")
        out[k] = frame.reshape(out.shape[1:])
        pos += size
    return out
