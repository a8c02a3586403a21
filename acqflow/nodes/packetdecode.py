"""PacketDecoder: a packet stream (MJPEG, H.264, HEVC) decoded into a video stream, e.g. for a
live view beside a Recorder that stores the packets as they come.

Output frame ``i`` is input packet ``i`` decoded (uint8 ``(h, w, 3)`` BGR or RGB, or
``(h, w)`` gray).  A packet that does not decode (damaged, hostile, of another size than
the stream's ``codec`` says) is not sent: a gap in the output, counted in ``errors``
(``last_error`` says why).  After a gap in the input, and at the start, H.264/HEVC
decoding waits for the next keyframe (the packets before it are counted in ``skipped``).
PyAV is imported when the node is initialized (``pip install 'acqflow[video]'``).
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ..dataflow.paramcheck import one_of
from ..dataflow.shortrepr import short_repr
from ..dataflow.streams import packets
from ..dataflow.streams.spec import inherited_params
from .base import StreamNode

__all__ = ["PacketDecoder", "PIXEL_FORMATS"]

log = logging.getLogger(__name__)
PIXEL_FORMATS = ("bgr", "rgb", "gray")
_AV_FORMAT = {"bgr": "bgr24", "rgb": "rgb24", "gray": "gray"}


def _av() -> Any:
    try:
        import av
    except ImportError as exc:
        raise ImportError(f"PacketDecoder needs PyAV: pip install 'acqflow[video]' ({exc})") from exc
    return av


class PacketDecoder(StreamNode):
    """Decodes each packet of its input into a frame of its output (module doc)."""

    _input_specs = {"input": {"streamtype": packets.STREAMTYPE}}
    _output_specs = {"output": {"streamtype": "video"}}

    def _configure(self, pixel_format: str = "bgr", threads: int = 1) -> None:
        """pixel_format: 'bgr' (OpenCV's), 'rgb' or 'gray'.  threads: decoder threads
        (1: each frame out as soon as its packet is in)."""
        one_of(*PIXEL_FORMATS)(f"{self.name}: pixel_format", pixel_format)
        self.pixel_format = pixel_format
        self.threads = int(threads)
        self.errors = 0
        self.skipped = 0
        self.decoded = 0
        self.last_error: str | None = None

    def output_params(self, input_params: dict) -> dict:
        codec = packets.check_codec(input_params.get("codec"))
        h, w = codec["height"], codec["width"]
        shape = (-1, h, w) if self.pixel_format == "gray" else (-1, h, w, 3)
        out = {k: v for k, v in input_params.items() if k != "codec"}
        return inherited_params(out, streamtype="video", dtype="uint8", shape=shape,
                                pixel_format=self.pixel_format)

    def reset(self) -> None:
        """A fresh decoder, waiting for a keyframe (H.264/HEVC)."""
        codec = packets.check_codec(self.input_params.get("codec"))
        av = _av()
        self._av = av
        ctx = av.CodecContext.create(codec["name"], "r")
        ctx.thread_count = self.threads
        if codec["extradata"]:
            ctx.extradata = bytes.fromhex(codec["extradata"])
        ctx.open()
        self._ctx = ctx
        self._size = (codec["height"], codec["width"])
        self._fmt = _AV_FORMAT[self.pixel_format]
        # one pixel-format converter for every frame, as the recording's reader has:
        # frame.to_ndarray(format=...) builds a new swscale context per frame (1080p: 1.0
        # against 0.65 ms)
        self._reformat = av.video.reformatter.VideoReformatter().reformat
        self._need_key = codec["name"] != "mjpeg"

    def on_gap(self, stop: int, start: int) -> None:
        self.reset()                       # what follows a lost packet: from a keyframe on

    def process(self, index: int, data: np.ndarray) -> None:
        """Decode the packet ending at ``index``; its frame (and any the decoder held back)
        is emitted at its own index; nothing is emitted for a packet that fails."""
        try:
            pkt = packets.split(data)
        except packets.MalformedPacket as exc:
            return self._failed(index, str(exc))
        if self._need_key:
            if not pkt.keyframe:
                self.skipped += 1
                return None
            self._need_key = False
        av = self._av
        packet = av.Packet(pkt.data)
        packet.pts = packet.dts = index - 1
        try:
            frames = self._ctx.decode(packet)
        except (av.FFmpegError, ValueError) as exc:
            self._ctx.flush_buffers()
            self._need_key = self._need_key or self._ctx.name != "mjpeg"
            return self._failed(index, f"does not decode: {str(exc)[:160]}")
        for frame in frames:
            self._emit_frame(frame, index)
        return None

    def _emit_frame(self, frame: Any, index: int) -> None:
        if (frame.height, frame.width) != self._size:
            self._failed(index, f"decodes to {frame.width}x{frame.height}, the stream's codec "
                                f"says {self._size[1]}x{self._size[0]}")
            return
        pts = frame.pts if frame.pts is not None else index - 1
        arr = self._reformat(frame, format=self._fmt).to_ndarray()
        self.decoded += 1
        self.emit(arr.reshape((1,) + arr.shape[:2] + arr.shape[2:]), int(pts) + 1)

    def _failed(self, index: int, why: str) -> None:
        self.errors += 1
        self.last_error = f"packet {index - 1}: {why}"
        log.log(logging.WARNING if self.errors <= 10 else logging.DEBUG,
                "%s: %s (%d so far)", self.name, short_repr(self.last_error, 200), self.errors)
