"""PacketCamera: a camera's compressed frames (MJPEG, H.264, HEVC) sent as they come, not decoded.

PyAV demuxes the source (a V4L2 device, a file or a stream URL) and the packets go out on a
packet stream (:mod:`acqflow.dataflow.streams.packets`): a Recorder stores them as they are,
a :class:`acqflow.nodes.packetdecode.PacketDecoder` decodes them on the side for a live view.
"""
from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from ..dataflow.paramcheck import int_in, must_be, positive_number
from ..dataflow.streams import clock, packets
from ._base import require
from .camera import FrameSource, _is_url, timestamps_spec

__all__ = ["PacketCamera", "INPUT_FORMATS"]

INPUT_FORMATS = ("mjpeg", "h264", "hevc")
_ANNEXB = {"h264": "h264_mp4toannexb", "hevc": "hevc_mp4toannexb"}
_OPEN_TIMEOUT = 10.0            # s: opening a device or URL
_READ_TIMEOUT = 5.0             # s: a frame that does not come is a lost device


def _av() -> Any:
    return require("av", "video", "PacketCamera")


def _device(device: Any) -> tuple[str, bool]:
    """``(what av.open takes, is a V4L2 device)`` for a camera index, a /dev path, a file or a URL."""
    if isinstance(device, bool) or not isinstance(device, (int, str)):
        must_be("PacketCamera device", "a camera index, a /dev/video path, a file or a URL", device)
    if isinstance(device, int) or device.isdigit():
        return f"/dev/video{int(device)}", True
    return device, device.startswith("/dev/video")


class PacketCamera(FrameSource):
    """Sends compressed frames on output ``packets`` and their stamps on ``timestamps``.

    ``packets`` is a packet stream (one frame per chunk, index = the camera's frame number;
    its ``codec`` param says what the packets are).  ``timestamps`` is the Camera's
    ``(capture_time, media_time)`` per frame at the same indexes: the capture stamp is
    ``clock.monotonic_now()`` when the packet is read (nothing is decoded), the media time
    the packet's presentation time (a driver's stamp, a file's position).  Frames the
    driver or the file skipped (a jump of the media time by more than one frame period)
    are a gap in the indexes, counted in ``skipped``.  H.264/HEVC packets are sent in
    Annex B with the decoder headers before each keyframe; packets with B-frames (out of
    presentation order) are refused.  A file plays at its frame rate (``realtime``) and
    loops at its end (``loop``) or ends the node ('end of file').
    """

    _output_specs = {"packets": {"streamtype": "packets"},
                     "timestamps": {"streamtype": "analogsignal"}}
    dry_configure = False          # configure opens the device

    def __init__(self, name: str | None = None):
        super().__init__(name=name)
        self._container: Any = None
        self._bsf: Any = None
        self._demux: Any = None

    def _configure(self, device: int | str = 0, input_format: str | None = None,
                   width: int | None = None, height: int | None = None, fps: float | None = None,
                   loop: bool = False, realtime: bool = True, format: str | None = None,
                   options: dict[str, str] | None = None) -> None:
        """Parameters:

        device: camera index (``/dev/videoN``), device path, video file or stream URL.
        input_format: what a V4L2 camera is asked to deliver: 'mjpeg' (default), 'h264'
            or 'hevc'; a file or URL delivers what it holds (one of these).
        width / height / fps: a camera is asked for them; a file must already have that
            size (packets are not resized).  fps of a file: its playback rate.
        loop / realtime: files: restart at the end / pace at ``fps``.
        format / options: PyAV's ``av.open(device, format=..., options=...)`` (default:
            'v4l2' for a device, guessed otherwise).
        """
        av = _av()
        for key, value in (("width", width), ("height", height)):
            if value is not None:
                int_in(f"{self.name}: {key}", value, 1, 16384)
        if fps is not None:
            positive_number(f"{self.name}: fps", fps)
        if input_format is not None and input_format not in INPUT_FORMATS:
            raise ValueError(f"{self.name}: input_format={input_format!r}; use one of "
                             f"{', '.join(INPUT_FORMATS)}")
        source, v4l2 = _device(device)
        is_file = not v4l2 and not _is_url(source)
        if is_file and not os.path.exists(source):
            raise ValueError(f"{self.name}: video file {source!r} does not exist")
        opts = {str(k): str(v) for k, v in (options or {}).items()}
        if v4l2:
            opts.setdefault("input_format", input_format or "mjpeg")
            if width and height:
                opts.setdefault("video_size", f"{width}x{height}")
            if fps:
                opts.setdefault("framerate", f"{fps:g}")
        self._release()
        self._open_args = (source, format or ("v4l2" if v4l2 else None), opts)
        container, stream = self._open(av)
        ctx = stream.codec_context
        name = ctx.name
        try:
            if name not in INPUT_FORMATS:
                raise ValueError(f"{self.name}: {source!r} delivers {name!r}; a PacketCamera sends "
                                 f"{', '.join(INPUT_FORMATS)} (use Camera to decode other video)")
            if getattr(ctx, "has_b_frames", 0):
                raise ValueError(f"{self.name}: {source!r} has B-frames (frames out of presentation "
                                 "order), which packet streams do not carry; re-encode it without")
            w, h = int(ctx.width), int(ctx.height)
            if w <= 0 or h <= 0:
                raise ValueError(f"{self.name}: {source!r} reports no frame size")
            if not v4l2 and (width not in (None, w) or height not in (None, h)):
                raise ValueError(f"{self.name}: {source!r} is {w}x{h}; packets are sent as they are "
                                 f"(not resized to {width}x{height}): use PacketDecoder + Resize")
        except BaseException:
            container.close()
            raise
        native = float(stream.average_rate or stream.guessed_rate or 0)
        rate = float(fps or native or 30.0)
        self._container = container
        self.device, self.is_file, self.codec_name = source, is_file, name
        self.size, self.fps, self.native_fps = (w, h), rate, native
        self.loop, self.realtime = bool(loop), bool(realtime)
        codec = {"name": name, "width": w, "height": h, "pix_fmt": ctx.pix_fmt}
        self._set_output_spec("packets", streamtype=packets.STREAMTYPE, dtype="uint8",
                              sample_rate=rate, codec=codec, source=str(source))
        self._set_output_spec("timestamps", **timestamps_spec(rate))

    def _open(self, av: Any) -> tuple[Any, Any]:
        """Open the source: (container, its video stream); ValueError naming it otherwise."""
        source, fmt, opts = self._open_args
        try:
            container = av.open(source, format=fmt, options=opts,
                                timeout=(_OPEN_TIMEOUT, _READ_TIMEOUT))
        except Exception as exc:          # av.FFmpegError, OSError: a one-line reason
            raise ValueError(f"{self.name}: cannot open {source!r}: {exc}") from None
        if not container.streams.video:
            container.close()
            raise ValueError(f"{self.name}: {source!r} has no video stream")
        stream = container.streams.video[0]
        filt = _ANNEXB.get(stream.codec_context.name)
        self._bsf = av.BitStreamFilterContext(filt, stream) if filt else None
        self._demux = container.demux(stream)
        self._stream = stream
        return container, stream

    def _step(self) -> bool | None:
        if not self._paced():
            return False
        for _ in range(2):
            got = self._read()
            if got is not None:
                self._send(*got)
                return None
            if not (self.is_file and self.loop and self.frames > 0):
                break
            self._container.close()              # loop: the file again, from its start
            self._container, _ = self._open(_av())
            self.loops += 1
            self.numbers.restart()
        what = "end of file" if self.is_file else "camera stopped delivering frames"
        self.device_lost(f"{what} {self.device!r} after {self.frames} frames")
        return False

    def _read(self) -> tuple[float, list, float] | None:
        """The next frame's (capture stamp, Annex B packets, media time); None at the end."""
        av = _av()
        while True:
            try:
                pkt = next(self._demux)
            except (StopIteration, av.error.EOFError):
                return None
            stamp = clock.monotonic_now()       # at capture: nothing is decoded
            if pkt.size == 0:                   # a demuxer's flush packet
                continue
            ts = pkt.dts if pkt.dts is not None else pkt.pts
            media = float(ts * pkt.time_base) if ts is not None and pkt.time_base else math.nan
            out = self._bsf.filter(pkt) if self._bsf is not None else [pkt]
            if out:
                return stamp, out, media

    def _send(self, stamp: float, pkts: list, media: float) -> None:
        number = self.numbers.next(0, media)
        data = b"".join(bytes(p) for p in pkts) if len(pkts) > 1 else pkts[0]     # (one copy: packet())
        key = self.codec_name == "mjpeg" or any(p.is_keyframe for p in pkts)
        self.outputs["packets"].send(packets.packet(data, keyframe=key), index=number + 1,
                                     time=stamp)
        self.outputs["timestamps"].send(_row(stamp, media), index=number + 1, time=stamp)
        self.frames += 1

    def _release(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = self._bsf = self._demux = None

    def _close_device(self) -> None:
        self._release()


def _row(stamp: float, media: float) -> np.ndarray:
    return np.array([[stamp, media]], dtype=np.float64)
