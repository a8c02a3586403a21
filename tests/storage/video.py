"""A small reference video recording for the export tests, and a reader for the files."""
from __future__ import annotations

import numpy as np

from acqflow.storage import Recording, RecordingWriter, open_recording

H, W = 48, 64


def smooth(start: int, stop: int, channels: int = 3) -> np.ndarray:
    """Frames without sharp edges (lossy codecs keep them close)."""
    i = np.arange(start, stop)[:, None, None, None]
    y = np.arange(H)[None, :, None, None]
    x = np.arange(W)[None, None, :, None]
    c = np.arange(channels)[None, None, None, :]
    return (40 + x + y + 2 * i + 20 * c).astype(np.uint8)


def make_video_recording(path) -> Recording:
    """'cam': 30 frames in PNG, a gap [20:25), then 5 more; 'gray': 6 raw grayscale frames."""
    with RecordingWriter(path, block_s=3600, block_bytes=50_000) as w:
        w.add_stream("cam", {"streamtype": "video", "shape": (-1, H, W, 3),
                             "sample_rate": 25.0}, codec="png")
        w.add_stream("gray", {"streamtype": "video", "shape": (-1, H, W), "sample_rate": 10.0})
        for k in range(20):
            w.write("cam", smooth(k, k + 1), index=k + 1, timestamp=100 + k / 25)
        w.write("cam", smooth(25, 30), index=30, timestamp=100 + 29 / 25)
        w.write("gray", smooth(0, 6)[..., 0], timestamp=100.5)
    return open_recording(path)


def read_video(path) -> tuple[np.ndarray, float]:
    """Every frame of a video file (OpenCV, BGR) and its frame rate."""
    import cv2
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        out.append(f)
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return np.array(out), fps
