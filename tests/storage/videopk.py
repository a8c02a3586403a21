"""Compressed-video test material: a noisy moving pattern and recordings of it."""
from __future__ import annotations

import numpy as np

from acqflow.storage import RecordingWriter, open_recording

H, W = 96, 128


def pattern(i: int, h: int = H, w: int = W, channels: int = 3, noise: int = 12) -> np.ndarray:
    """Frame ``i``: a smooth pattern moving 2 px per frame plus seeded noise."""
    y, x = np.mgrid[0:h, 0:w]
    base = 128 + 60 * np.sin((x + 2 * i) / 9.0) + 40 * np.cos((y - i) / 7.0)
    img = np.stack([base + 30 * c for c in range(channels)], -1)
    img += np.random.default_rng(i).integers(-noise, noise + 1, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def params(channels: int = 3, rate: float = 30.0, h: int = H, w: int = W) -> dict:
    shape = (-1, h, w, channels) if channels > 1 else (-1, h, w)
    return {"streamtype": "video", "shape": shape, "sample_rate": rate}


def record(path, codec, n: int = 100, channels: int = 3, pause_at: int | None = None,
           **writer_kw):
    """Write ``n`` pattern frames at 30 fps (a 0.5 s pause before ``pause_at``); the
    encoder queue holds them all, so nothing is dropped.  Returns the open recording."""
    kw = {"block_s": 0.05, **writer_kw}
    codec = {"name": codec} if isinstance(codec, str) else dict(codec)
    codec.setdefault("queue", n + 1)
    with RecordingWriter(path, **kw) as w:
        w.add_stream("cam", params(channels), codec=codec)
        for i in range(n):
            f = pattern(i, channels=channels)
            if channels == 1:
                f = f[..., 0]
            t = 1.7e9 + i / 30 + (0.5 if pause_at is not None and i >= pause_at else 0.0)
            assert w.write("cam", f[None], index=i + 1, timestamp=t), f"frame {i} dropped"
    return open_recording(path)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)
