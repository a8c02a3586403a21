"""`acqflow bench video`'s source frames and quality measure, and its two references run on
the same frames: PyAV alone (libx264 ultrafast, crf 23, GOP 30, one thread) and OpenCV's
VideoWriter (mp4v, the compressed codec OpenCV's wheels carry)."""
from __future__ import annotations

import os
import statistics
import time
from typing import Any, Callable

import numpy as np

from ..dataflow.paramcheck import must_be

__all__ = ["CODEC_SPECS", "SIZES", "SCENES", "parse_size", "source_frames", "psnr", "pyav_alone",
           "opencv_writer", "timed"]

# what each codec name is asked as (the Recorder's ``codecs`` parameter)
CODEC_SPECS: dict[str, Any] = {
    "raw": "raw", "png": "png", "jpg": "jpg",
    "h264": {"name": "h264", "crf": 23, "gop": 30, "preset": "ultrafast"},
    "hevc": {"name": "hevc", "crf": 28, "gop": 30, "preset": "ultrafast"},
    "ffv1": {"name": "ffv1"},
}
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
FPS = 30


def parse_size(text: str) -> tuple[int, int]:
    """'720p', '1080p' or 'WxH' -> (w, h); ValueError naming the bad value."""
    if text in SIZES:
        return SIZES[text]
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        must_be("--size", "720p, 1080p or WxH", text)
    if not (16 <= w <= 8192 and 16 <= h <= 8192) or w % 2 or h % 2:
        must_be("--size", "WxH with an even width and height in 16..8192", text)
    return w, h


SCENES = ("pattern", "smooth")


def source_frames(w: int, h: int, distinct: int = FPS, seed: int = 0,
                  scene: str = "pattern") -> np.ndarray:
    """``distinct`` BGR frames; frame k of a run is ``frames[k % distinct]``.  ``pattern``:
    sharp stripes and checks moving 8 px a frame plus uniform noise 0..7 on every pixel (a
    hard scene for inter-frame coding); ``smooth``: a smooth gradient moving 2-4 px a frame
    plus mild sensor-like noise (Gaussian, sigma 3), closer to a behaviour camera's view."""
    if scene not in SCENES:
        must_be("--scene", " or ".join(SCENES), scene)
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(seed)
    out = np.empty((distinct, h, w, 3), np.uint8)
    for k in range(distinct):
        if scene == "smooth":
            base = 128 + 60 * np.sin((x + 4 * k) / 40.0) + 40 * np.cos((y - 2 * k) / 30.0)
            img = np.stack([base, base * 0.8 + 30, 220 - base * 0.7], -1)
            out[k] = np.clip(img + rng.normal(0, 3, img.shape), 0, 255)
            continue
        xs = x + 8 * k
        out[k, ..., 0] = (xs // 2) % 200 + 20
        out[k, ..., 1] = ((xs // 40 + y // 40) % 2) * 150 + 40
        out[k, ..., 2] = (y // 3 + 4 * k) % 180 + 30
        out[k] += rng.integers(0, 8, (h, w, 3), np.uint8)
    return out


def psnr(pairs: list[tuple[np.ndarray, np.ndarray]]) -> float | None:
    """PSNR (dB) of decoded frames against their sources over all pairs; None when identical."""
    mse = float(np.mean([np.mean((a.astype(np.float64) - b) ** 2) for a, b in pairs]))
    return None if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``(fn(), ms)``."""
    t0 = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t0) * 1e3


def _encoded(name: str, n: int, wall: float, cpu: float, nbytes: int) -> dict[str, Any]:
    return {"codec": name, "frames": n, "stored": n, "fps": n / wall, "cpu_ms_per_frame": cpu / n * 1e3,
            "cores": cpu / wall, "bytes_per_frame": nbytes / n}


def pyav_alone(frames: np.ndarray, n: int, path: str, reads: list[int],
               rate: float | None = None) -> dict[str, Any]:
    """libx264 ultrafast crf 23, GOP 30, no B-frames, yuv420p, one thread (the Recorder's
    h264 row's settings), into Matroska: encode n frames (``enc_cpu_ms_per_frame``: CPU of
    this one thread per frame: the frame copies, the encoder, the muxer; at ``rate`` frames/s
    when given, as a camera's frames come, else as fast as it goes), then random frames
    (seek to the keyframe before, decode to the frame) and all in a row."""
    import av
    distinct = len(frames)
    h, w = frames.shape[1:3]
    t0, c0, e0 = time.perf_counter(), time.process_time(), time.thread_time()
    with av.open(path, "w") as out:
        s = out.add_stream("libx264", rate=FPS, options={"preset": "ultrafast", "crf": "23",
                                                         "g": "30", "bf": "0"})
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.codec_context.thread_count = 1
        for k in range(n):
            if rate:             # a camera's pace (the encoder waits for each frame)
                time.sleep(max(0.0, t0 + k / rate - time.perf_counter()))
            f = av.VideoFrame.from_ndarray(frames[k % distinct], format="bgr24")
            f.pts = k
            out.mux(s.encode(f))
        out.mux(s.encode())
    enc = time.thread_time() - e0
    row = _encoded("pyav libx264", n, time.perf_counter() - t0, time.process_time() - c0,
                   os.path.getsize(path))
    row["enc_cpu_ms_per_frame"] = enc / n * 1e3
    with av.open(path) as inp:
        vs = inp.streams.video[0]
        vs.thread_count = 1
        decoded, t_row = timed(lambda: [f.to_ndarray(format="bgr24") for f in inp.decode(vs)])
        tb = vs.time_base
        assert tb is not None                # (a video stream read from a file has one)

        def read(i: int) -> np.ndarray:
            inp.seek(int(round(i / FPS / tb)), stream=vs, backward=True, any_frame=False)
            for f in inp.decode(vs):
                if round(float(f.time) * FPS) >= i:
                    return f.to_ndarray(format="bgr24")
            raise IndexError(i)
        lat = [timed(lambda: read(i))[1] for i in reads]
    row.update(psnr=psnr([(decoded[k], frames[k % distinct]) for k in range(0, len(decoded), 7)]),
               random_ms_median=statistics.median(lat) if lat else None,
               read_fps=len(decoded) / t_row * 1e3)
    return row


def opencv_writer(frames: np.ndarray, n: int, path: str, reads: list[int]) -> dict[str, Any]:
    """cv2.VideoWriter mp4v: encode n frames; random frames by CAP_PROP_POS_FRAMES, all in a row."""
    import cv2
    distinct = len(frames)
    h, w = frames.shape[1:3]
    t0, c0 = time.perf_counter(), time.process_time()
    writer = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*"mp4v"), FPS, (w, h))
    if not writer.isOpened():
        return {"codec": "opencv mp4v", "error": "cv2.VideoWriter cannot write mp4v here"}
    for k in range(n):
        writer.write(frames[k % distinct])
    writer.release()
    row = _encoded("opencv mp4v", n, time.perf_counter() - t0, time.process_time() - c0,
                   os.path.getsize(path))
    cap = cv2.VideoCapture(path)

    def all_frames() -> list[np.ndarray]:
        out: list[np.ndarray] = []
        while True:
            ok, f = cap.read()
            if not ok:
                return out
            out.append(f)
    decoded, t_row = timed(all_frames)

    def read(i: int) -> np.ndarray:
        cap.set(cv2.CAP_PROP_POS_FRAMES, i)
        return cap.read()[1]
    lat = [timed(lambda: read(i))[1] for i in reads]
    cap.release()
    row.update(psnr=psnr([(decoded[k], frames[k % distinct]) for k in range(0, len(decoded), 7)]),
               random_ms_median=statistics.median(lat) if lat else None,
               read_fps=len(decoded) / t_row * 1e3)
    return row
