"""Packet streams: compressed video (H.264, HEVC, MJPEG) sent as it comes, one frame per chunk.

A stream with ``streamtype='packets'`` carries one compressed frame per chunk, of any byte
length: the chunk is a ``(1, 1 + nbytes)`` uint8 array, one flags byte (:data:`KEYFRAME`)
followed by the packet's bytes (:func:`packet` builds it, :func:`split` reads it).  The
index counts frames, so the wire's loss and gap accounting counts frames too.  The
stream's ``codec`` param describes the packets: ``{'name': 'h264' | 'hevc' | 'mjpeg',
'width': w, 'height': h, 'pix_fmt': 'yuv420p', 'extradata': hex or None}``.  H.264 and
HEVC packets are Annex B (start codes) with the decoder headers (SPS/PPS/VPS) in-band
before each keyframe, so a decoder can start at any keyframe; each MJPEG packet is one
JPEG image (every one a keyframe).

Packet streams are plaindata only: a shared ring holds fixed-size samples, and packets
have none (``transfermode='sharedmem'`` is refused when the output is configured).
"""
from __future__ import annotations

import re
from typing import Any, NamedTuple

import numpy as np

from ..errors import Error
from ..paramcheck import int_in, short

__all__ = ["STREAMTYPE", "CODECS", "KEYFRAME", "FLAGS", "Packet", "MalformedPacket",
           "packet", "split", "check_params", "check_codec", "check_chunk", "check_message",
           "planned_bytes"]

STREAMTYPE = "packets"
CODECS = ("h264", "hevc", "mjpeg")
KEYFRAME = 1                   # flags bit 0: a decoder can start at this packet
FLAGS = KEYFRAME               # every flag bit known; others are refused
MAX_PACKET = 64 << 20          # bytes: larger than any compressed frame of a real camera
_CODEC_KEYS = ("name", "width", "height", "pix_fmt", "extradata")
_HEX = re.compile(r"^(?:[0-9a-fA-F]{2})*$")


class MalformedPacket(Error, ValueError):
    """A packet chunk that is not one flags byte and a packet (one line, naming the problem)."""


class Packet(NamedTuple):
    """One received packet: its bytes (a view of the chunk) and whether it is a keyframe."""
    data: memoryview
    keyframe: bool


def packet(data: Any, keyframe: bool = False) -> np.ndarray:
    """The chunk that sends ``data`` (one compressed frame: bytes, 1-D uint8 or any buffer)
    on a packet stream:
    ``output.send(packet(data, keyframe=True), index=frame + 1, time=t)``."""
    try:
        raw = data if isinstance(data, np.ndarray) else np.frombuffer(data, np.uint8)
    except (TypeError, ValueError):
        raw = data
    if not isinstance(raw, np.ndarray) or raw.dtype != np.uint8 or raw.ndim != 1:
        raise ValueError(f"a packet is bytes (or 1-D uint8), got {_what(raw)}")
    if not 0 < raw.size <= MAX_PACKET:
        raise ValueError(f"a packet has 1 to {MAX_PACKET} bytes, got {raw.size}")
    out = np.empty((1, raw.size + 1), np.uint8)
    out[0, 0] = KEYFRAME if keyframe else 0
    out[0, 1:] = raw
    return out


def _what(value: Any) -> str:
    """One line naming what ``value`` is (an array by dtype and shape)."""
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    return short(value)


def split(chunk: np.ndarray) -> Packet:
    """The packet in a received chunk; :class:`MalformedPacket` when it is not one."""
    if not isinstance(chunk, np.ndarray) or chunk.dtype != np.uint8 or chunk.ndim != 2:
        raise MalformedPacket(f"a packet chunk is a (1, n) uint8 array, got {_what(chunk)}")
    if chunk.shape[0] != 1 or chunk.shape[1] < 2:
        raise MalformedPacket(f"a packet chunk holds one flags byte and at least one packet "
                              f"byte in one row, got shape {chunk.shape}")
    flags = int(chunk[0, 0])
    problem = _flags_problem(flags)
    if problem:
        raise MalformedPacket(problem)
    row: Any = np.ascontiguousarray(chunk[0])
    return Packet(memoryview(row)[1:], bool(flags & KEYFRAME))


def check_chunk(data: np.ndarray, label: str) -> None:
    """Sender side: ``data`` is one packet chunk (:func:`packet`), else ValueError."""
    try:
        split(data)
    except MalformedPacket as exc:
        raise ValueError(f"{label}: {exc} (build it with packets.packet(data, keyframe))") from None


def check_message(nsamples: int, shape: tuple, payload: Any) -> str | None:
    """Receiver side: why a data message (header fields and its checked-length payload) is
    not one packet (None: it is).  What an input returns of a packet stream always splits."""
    if nsamples != 1 or len(shape) != 2 or shape[1] < 2:
        return f"packet message of {nsamples} samples, shape {shape} (one (1, n >= 2) packet expected)"
    return _flags_problem(payload[0])


def _flags_problem(flags: int) -> str | None:
    """Why a packet's flags byte is refused (bits no flag defines), or None."""
    if flags & ~FLAGS:
        return f"packet flags 0x{flags:02x} has unknown bits (known: 0x{FLAGS:02x} keyframe)"
    return None


def check_params(p: dict[str, Any]) -> None:
    """The contract of a packet stream's params (normalised in place): uint8, no fixed
    shape, plaindata, no chunking, and a ``codec`` description; ValueError naming the bad value."""
    if np.dtype(p["dtype"]) != np.uint8 or p["shape"] is not None:
        raise ValueError(f"packet streams carry uint8 chunks of any length (dtype='uint8', no "
                         f"shape); got dtype={p['dtype']} shape={p['shape']}")
    if p["transfermode"] != "plaindata":
        raise ValueError("packet streams are plaindata only: a shared ring holds fixed-size "
                         f"samples and packets have none (transfermode={p['transfermode']!r})")
    if p.get("chunksize"):
        raise ValueError(f"packet streams send one packet per chunk (chunksize="
                         f"{short(p['chunksize'])} is not allowed)")
    p["codec"] = check_codec(p.get("codec"))


def check_codec(codec: Any) -> dict[str, Any]:
    """A packet stream's ``codec`` param, checked and with its defaults."""
    if not isinstance(codec, dict):
        raise ValueError(f"a packet stream needs codec={{'name': ..., 'width': ..., 'height': ...}}, "
                         f"got codec={short(codec)}")
    unknown = [k for k in codec if k not in _CODEC_KEYS]
    if unknown:
        raise ValueError(f"packet codec: unknown key {short(unknown[0])}; use {', '.join(_CODEC_KEYS)}")
    name = codec.get("name")
    if name not in CODECS:
        raise ValueError(f"packet codec name={short(name)}: use one of {', '.join(CODECS)}")
    out: dict[str, Any] = {"name": name,
                           "width": int_in("packet codec width", codec.get("width"), 1, 16384),
                           "height": int_in("packet codec height", codec.get("height"), 1, 16384)}
    pix = codec.get("pix_fmt")
    if pix is not None and not (isinstance(pix, str) and 0 < len(pix) < 32 and pix.isascii()):
        raise ValueError(f"packet codec pix_fmt={short(pix)}: a pixel format name such as 'yuv420p'")
    out["pix_fmt"] = pix
    extra = codec.get("extradata")
    if extra is not None and not (isinstance(extra, str) and len(extra) <= 1 << 20
                                  and _HEX.match(extra)):
        raise ValueError(f"packet codec extradata={short(extra)}: the decoder headers as a hex string")
    out["extradata"] = extra or None
    return out


def planned_bytes(params: dict[str, Any]) -> int:
    """Bytes per message a drop-mode queue is planned for: a compressed frame of the
    stream's size (MJPEG ~1/4 byte per pixel, H.264/HEVC ~1/16), at least 4 KB."""
    codec = params.get("codec") or {}
    pixels = int(codec.get("width", 640)) * int(codec.get("height", 480))
    return max(4096, pixels // (4 if codec.get("name") == "mjpeg" else 16))
