"""Video files written by PyAV for packet-stream tests, and what PyAV itself reads from them."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from tests.storage.videopk import pattern

W, H, FPS = 128, 96, 30
# codec -> (PyAV encoder, container suffix, pixel format, encoder options)
WRITERS = {"h264": ("libx264", ".mkv", "yuv420p", {"g": "10", "bf": "0", "preset": "ultrafast",
                                                  "x264-params": "scenecut=0"}),
           "hevc": ("libx265", ".mkv", "yuv420p", {"g": "10", "bf": "0", "preset": "ultrafast",
                                                  "x265-params": "log-level=error:bframes=0:keyint=10"}),
           "mjpeg": ("mjpeg", ".avi", "yuvj420p", {}),
           "h264-bframes": ("libx264", ".mkv", "yuv420p", {"g": "10", "bf": "2"}),
           "mpeg4": ("mpeg4", ".avi", "yuv420p", {})}


def write_video(folder, codec: str, n: int = 40, skip: frozenset = frozenset(), gray: bool = False,
                name: str | None = None) -> str:
    """A file of ``n`` frames (tests.storage.videopk.pattern) at FPS; frames in ``skip`` are
    left out (their time stays empty, as a camera that dropped them)."""
    import av
    encoder, suffix, pix, opts = WRITERS[codec]
    path = str(folder / f"{name or codec}{suffix}")
    with av.open(path, "w") as c:
        s = c.add_stream(encoder, rate=FPS)
        s.width, s.height, s.pix_fmt = W, H, "gray" if gray else pix
        s.codec_context.time_base = Fraction(1, FPS)
        s.options = opts
        for i in range(n):
            if i in skip:
                continue
            f = av.VideoFrame.from_ndarray(pattern(i, H, W), format="bgr24")
            f.pts, f.time_base = i, Fraction(1, FPS)
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    return path


def source_packets(path: str) -> list[tuple[bytes, bool]]:
    """Each packet of the file as PyAV demuxes it (H.264/HEVC turned into Annex B, as
    PacketCamera sends them), with its keyframe flag."""
    import av
    with av.open(path) as c:
        vs = c.streams.video[0]
        name = vs.codec_context.name
        bsf = av.BitStreamFilterContext(f"{name}_mp4toannexb", vs) if name in ("h264", "hevc") else None
        out = []
        for pkt in c.demux(vs):
            if pkt.size:
                for p in (bsf.filter(pkt) if bsf else [pkt]):
                    out.append((bytes(p), bool(p.is_keyframe)))
        return out


def source_frames(path: str, fmt: str = "bgr24") -> list[np.ndarray]:
    """The file's frames as PyAV decodes them."""
    import av
    with av.open(path) as c:
        return [f.to_ndarray(format=fmt) for f in c.decode(video=0)]
