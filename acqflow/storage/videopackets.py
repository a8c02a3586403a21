"""Packet streams recorded as they come: a camera's H.264/HEVC/MJPEG packets stored without
decoding or re-encoding (see :mod:`acqflow.dataflow.streams.packets`).

The stored stream is a video stream like one the recorder encoded: H.264/HEVC packets one
record each with their keyframe flags (codec ``h264``/``hevc``, blocks starting on
keyframes, random access and remux export as for encoded video); MJPEG packets one JPEG
per frame (the ``jpg`` per-frame codec).  Each record's bytes are the packet's, exactly.
Packets before the stream's first keyframe cannot be decoded: they are not stored (the
recording starts at the first keyframe, counted in ``skipped_before_keyframe``).
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from acqflow.dataflow.streams import packets

from .format import Chunk
from .videoenc import KEYFRAME

__all__ = ["is_packet_stream", "stored_params", "PacketIntake"]

log = logging.getLogger("acqflow.storage")


def is_packet_stream(params: dict[str, Any]) -> bool:
    """True for the params of a packet stream (streamtype 'packets')."""
    return params.get("streamtype") == packets.STREAMTYPE


def stored_params(params: dict[str, Any], codec: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(video params, codec entry)`` under which a packet stream is stored: uint8 frames
    (h, w, 3) BGR, or (h, w) for gray, as its records decode."""
    if codec is not None:
        raise ValueError(f"stream of packets ({params['codec']['name']}) is stored as it comes; "
                         f"it takes no codec (got {codec!r}): decode it (PacketDecoder) and "
                         "record the decoded stream to re-encode it")
    desc = packets.check_codec(params.get("codec"))
    gray = str(desc["pix_fmt"] or "").startswith("gray")
    h, w = desc["height"], desc["width"]
    video = {k: v for k, v in params.items() if k != "codec"}
    video.update(streamtype="video", dtype="uint8", shape=(-1, h, w) if gray else (-1, h, w, 3),
                 pixel_format="gray" if gray else "bgr")
    entry: dict[str, Any] = {"name": "jpg" if desc["name"] == "mjpeg" else desc["name"],
                             "source": "packets", "source_codec": desc["name"]}
    if desc["name"] != "mjpeg":
        entry.update(input="gray" if gray else "bgr24", pix_fmt=desc["pix_fmt"] or "yuv420p",
                     encoder="source")
    if desc["extradata"]:
        entry["source_extradata"] = desc["extradata"]
    return video, entry


class PacketIntake:
    """Turns the chunks of one recorded packet stream into the writer's records."""

    def __init__(self, name: str, codec: dict[str, Any]):
        self.name = name
        self.per_frame = codec["name"] == "jpg"      # MJPEG: every frame stands alone
        self.started = self.per_frame
        self.packets = 0
        self.skipped = 0                             # before the first keyframe

    def check(self, data: Any) -> np.ndarray:
        """``data`` if it is one packet chunk, else ValueError (one line)."""
        try:
            packets.split(data)
        except packets.MalformedPacket as exc:
            raise ValueError(f"stream {self.name!r}: {exc}") from None
        return data

    def chunk(self, sid: int, start: int, t: float, data: np.ndarray) -> Chunk | None:
        """The record of packet ``start`` (a checked packet chunk); None before the first
        keyframe (not stored)."""
        pkt = packets.split(data)
        if not self.started:
            if not pkt.keyframe:
                self.skipped += 1
                if self.skipped == 1:
                    log.info("%s: packets before the first keyframe cannot be decoded; the "
                             "recording starts at it", self.name)
                return None
            self.started = True
        self.packets += 1
        payload = np.frombuffer(pkt.data, np.uint8)      # a view of the received chunk
        if self.per_frame:
            return Chunk(sid, start, 1, t, payload, [len(payload)])
        return Chunk(sid, start, 1, t, payload, None, KEYFRAME if pkt.keyframe else 0)

    def stats(self) -> dict[str, Any]:
        """Counters for the writer's stats."""
        return {"encoder": "none (stored as received)", "packets": self.packets,
                "skipped_before_keyframe": self.skipped}
