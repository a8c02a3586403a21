"""`acqflow bench video --export-hour`: the remux export of one hour of 30 fps H.264.

One GOP of the scene is encoded once (the Recorder's h264 settings) and its packets are
stored again and again, as the Recorder's encoder thread hands them over, until the
recording holds one hour (108,000 frames, each with its own time); then the stream is
exported without re-encoding to .mkv and to .mp4, as ``acqflow rec export REC cam --out
f.mkv`` does, each timed.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from . import harness
from .videoref import CODEC_SPECS, FPS, source_frames

__all__ = ["export_hour", "store_packets"]

HOUR = 3600 * FPS


def _one_gop(w: int, h: int, scene: str) -> tuple[dict[str, Any], list[tuple[bytes, int]]]:
    """The h264 codec entry and the (packet, flags) of one GOP of ``scene``."""
    from ..storage.videocodec import av_module, normalize_packet_codec, open_encoder
    from ..storage.videoenc import KEYFRAME
    av = av_module()
    codec = normalize_packet_codec(dict(CODEC_SPECS["h264"]), (-1, h, w, 3))
    ctx = open_encoder(codec, w, h, FPS)
    out = []
    for k, frame in enumerate(source_frames(w, h, codec["gop"], scene=scene)):
        vf = av.VideoFrame.from_ndarray(frame, format=codec["input"])
        vf.pts = k
        out += ctx.encode(vf)
    out += ctx.encode(None)
    return codec, [(bytes(p), KEYFRAME if p.is_keyframe else 0) for p in out]


def store_packets(path: Path, w: int, h: int, n: int, scene: str = "pattern") -> float:
    """A recording at ``path`` with stream 'cam' of ``n`` h264 frames at 30 fps (one GOP's
    packets repeated); returns the seconds it took."""
    from ..storage import RecordingWriter
    codec, gop = _one_gop(w, h, scene)
    t0 = time.perf_counter()
    with RecordingWriter(path) as wr:
        sid = wr.add_stream("cam", {"streamtype": "video", "dtype": "uint8", "shape": (-1, h, w, 3),
                                    "sample_rate": float(FPS)}, codec={"name": "h264", **{
                                        k: codec[k] for k in ("crf", "gop", "preset")}})
        start = time.time()
        for i in range(n):
            data, flags = gop[i % len(gop)]
            wr._packet(sid, i, start + i / FPS, data, flags)   # as the encoder thread hands over
    return time.perf_counter() - t0


def export_hour(w: int, h: int, scene: str, dirname: str | None, json_path: str | None,
                frames: int = HOUR) -> int:
    """Store one hour of 30 fps (``frames``), export it by remux to .mkv and .mp4; print
    and return 0."""
    from ..storage import open_recording
    from ..storage.export_remux import to_remux
    tmp = Path(tempfile.mkdtemp(prefix="acqflow-videobench-", dir=dirname))
    results: list[dict[str, Any]] = []
    try:
        stored_s = store_packets(tmp / "rec", w, h, frames, scene)
        rec = open_recording(tmp / "rec")
        cam = rec["cam"]
        what = "one hour" if frames == HOUR else f"{frames / FPS:g} s"
        print(f"{what} of {w}x{h} h264 at {FPS} fps ({cam.n_samples} frames, "
              f"{sum(f.stat().st_size for f in (tmp / 'rec').rglob('*') if f.is_file()) / 1e6:.0f} MB, "
              f"stored in {stored_s:.1f} s), exported without re-encoding (target: <= 6 s):")
        for suffix in (".mkv", ".mp4"):
            out = tmp / f"hour{suffix}"
            t0 = time.perf_counter()
            to_remux(cam, out)
            s = time.perf_counter() - t0
            size = out.stat().st_size
            results.append({"format": suffix[1:], "frames": cam.n_samples, "seconds": s,
                            "frames_per_s": cam.n_samples / s, "bytes": size})
            print(f"  {suffix[1:]:>4}: {s:6.2f} s  ({cam.n_samples / s:,.0f} frames/s, "
                  f"{size / 1e6:.0f} MB)")
            out.unlink()
        rec.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    harness.write_json(json_path, results, size=[w, h], frames=frames, mode="export-hour")
    return 0
