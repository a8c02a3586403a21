"""Export a compressed video stream (h264, hevc, ffv1) to MKV/MP4 by remuxing: the stored
packets are copied, not re-encoded, each at its frame's true time.

Times are :func:`.export_video.frame_times`' (a regular grid where the stream has one,
else each frame's stored time: variable frame rate), with the container's resolution
(MKV 1 ms, MP4/MOV 1/90000 s).  The export starts at the keyframe at or before ``start``
(a packet stream decodes only from a keyframe), so it may begin up to one GOP early; the
frames it holds are returned with their indexes and times.  MKV and MP4 store H.264/HEVC
NAL units length-prefixed: the muxer re-frames the stored Annex B packets, every NAL unit
byte-identical (:func:`nal_units` reads both framings); FFV1 packets are copied as they are.
"""
from __future__ import annotations

import io
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .export import atomic_export
from .export_video import frame_times, open_container, times_to_pts, to_video
from .progress import progress_bar
from .stored import StoredStream
from .videocodec import av_module, is_packet_codec
from .videoenc import KEYFRAME

__all__ = ["to_remux", "remux_frames", "export_video_file", "nal_units", "REMUX_SUFFIXES"]

REMUX_SUFFIXES = (".mkv", ".mp4", ".mov")


def nal_units(data: bytes | memoryview, length_prefixed: bool = False) -> list[bytes]:
    """The NAL units of an H.264/HEVC packet: Annex B (start codes, as stored) or
    length-prefixed with 4-byte lengths (as in MKV/MP4)."""
    data = bytes(data)
    out = []
    if length_prefixed:
        pos = 0
        while pos + 4 <= len(data):
            n = int.from_bytes(data[pos:pos + 4], "big")
            out.append(data[pos + 4:pos + 4 + n])
            pos += 4 + n
        return out
    starts = []
    pos = data.find(b"\x00\x00\x01")
    while pos >= 0:
        starts.append(pos + 3)
        pos = data.find(b"\x00\x00\x01", pos + 3)
    for k, s in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else len(data)
        nal = data[s:end]
        out.append(nal.rstrip(b"\x00") if k + 1 < len(starts) else nal)
    return out


def _output_stream(av: Any, container: Any, codec: dict[str, Any], first: bytes,
                   shape: tuple[int, ...]) -> Any:
    """The output stream, without opening an encoder (which would write its own headers):
    H.264/HEVC from a template parsed out of the first (key) packet; FFV1 with the stored
    extradata."""
    if codec["name"] in ("h264", "hevc"):
        probe = av.open(io.BytesIO(first), format=codec["name"])
        try:
            return container.add_stream_from_template(probe.streams.video[0], opaque=True)
        finally:
            probe.close()
    out = container.add_stream("ffv1")
    out.width, out.height, out.pix_fmt = shape[2], shape[1], codec["pix_fmt"]
    out.codec_context.extradata = bytes.fromhex(codec["extradata"])
    return out


def remux_frames(stream: StoredStream, path: str | os.PathLike, start: int | None = None,
                 stop: int | None = None, tolerance: float | None = None,
                 times: str | None = None, progress: bool | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Write the packets of ``[start, stop)`` (from the keyframe at or before ``start``) to
    ``path`` (.mkv, .mp4, .mov) without re-encoding; returns the ``(indexes, times)`` of
    the frames written (times as :func:`.export_video.frame_times`)."""
    path = Path(path)
    codec = stream.codec
    if not is_packet_codec(codec):
        raise ValueError(f"stream {stream.name!r} is not stored as compressed packets "
                         f"(codec {codec and codec.get('name')!r}); export it re-encoded")
    suffix = path.suffix.lower()
    if suffix not in REMUX_SUFFIXES:
        raise ValueError(f"remux writes {', '.join(REMUX_SUFFIXES)}, not {suffix!r} "
                         "(re-encode for other containers)")
    if codec["name"] == "ffv1" and suffix != ".mkv":
        raise ValueError(f"FFV1 goes in .mkv, not {suffix} (or re-encode)")
    av = av_module()
    start, stop = stream.bounds(start, stop)
    rec = stream.recording
    k0, k1 = stream._span(start, stop)
    k1 = max(k0, k1)
    if k1 > k0:
        k0 = rec.decoder(stream).keyframe_before(k0)
    a = stream._table.arrays
    first = int(a["start"][k0]) if k1 > k0 else start
    idx, t = frame_times(stream, first, stop, tolerance, times)
    if len(idx) != k1 - k0:
        raise ValueError(f"stream {stream.name!r}: records are not one frame each; "
                         "cannot remux")
    tbase = Fraction(1, 1000) if suffix == ".mkv" else Fraction(1, 90000)
    pts = times_to_pts(t, tbase)
    container = open_container(av, path)
    bar = progress_bar(k1 - k0, f"remux {stream.name}", "frame", progress)
    try:
        if len(t):
            container.metadata["comment"] = (f"acqflow stream {stream.name!r}: first frame "
                                             f"at {float(t[0])!r} s (Unix time)")
        flags = a["flags"]
        out = None
        for j, data in rec.record_payloads(stream, k0, k1):
            if out is None:
                out = _output_stream(av, container, codec, bytes(data), stream.shape)
                out.time_base = tbase
            packet = av.Packet(data)
            packet.stream = out
            packet.time_base = tbase
            packet.pts = packet.dts = int(pts[j - k0])
            packet.is_keyframe = bool(flags[j] & KEYFRAME)
            container.mux(packet)
            if j == k0 and codec.get("extradata") and bytes(
                    out.codec_context.extradata or b"") != bytes.fromhex(codec["extradata"]):
                raise ValueError(f"stream {stream.name!r}: the container's FFV1 headers differ "
                                 "from the stored ones; export it re-encoded")
            if (j - k0) % 1024 == 1023:
                bar.update(1024)
        bar.update((k1 - k0) % 1024)
    finally:
        container.close()
        bar.close()
    return idx, t


@atomic_export     # overwrite=False: an existing file is refused; written beside, renamed
def to_remux(stream: StoredStream, path: str | os.PathLike, start: int | None = None,
             stop: int | None = None, tolerance: float | None = None,
             times: str | None = None, progress: bool | None = None) -> Path:
    """:func:`remux_frames` as an export: the file appears complete or not at all."""
    remux_frames(stream, path, start, stop, tolerance, times, progress)
    return Path(path)


def export_video_file(stream: StoredStream, path: str | os.PathLike, start: int | None = None,
                      stop: int | None = None, *, reencode: bool = False,
                      fourcc: str | None = None, **kw: Any) -> Path:
    """A video file of ``stream``: remuxed when it is stored compressed and the container
    takes its packets (.mkv/.mp4/.mov, no ``reencode``/``fourcc``), else re-encoded by
    :func:`.export_video.to_video`."""
    suffix = Path(path).suffix.lower()
    if (is_packet_codec(stream.codec) and not reencode and fourcc is None
            and suffix in REMUX_SUFFIXES
            and (stream.codec["name"] != "ffv1" or suffix == ".mkv")):
        return to_remux(stream, path, start, stop, **kw)
    return to_video(stream, path, start, stop, fourcc=fourcc, **kw)
