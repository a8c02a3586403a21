"""Live previews for the web monitor: an InputStream in the server's process on a
picked output, drained by a ThreadPollInput, read decimated (signals) or as the latest
frame (video) when the page is updated."""
from __future__ import annotations

import base64
import threading
from typing import Any

import numpy as np

from ..dataflow import InputStream, RingBuffer
from ..dataflow.streams.spec import make_dtype
from ..dataflow.streams.threadpoll import ThreadPollInput
from ..errors import Error

__all__ = ["PreviewTap", "PreviewError"]


class PreviewError(Error, ValueError):
    """This output cannot be previewed here (inproc, no fixed shape, not numeric)."""


def _is_video(params: dict[str, Any]) -> bool:
    return params.get("streamtype") == "video" or len(params.get("shape") or ()) >= 3


class PreviewTap:
    """Receives output ``params`` (its node.name is ``key``) into a ring of
    ``seconds`` (signals) or keeps the latest frame (video); ``read()`` gives the
    page's JSON.  Closed with ``close()``."""

    def __init__(self, key: str, params: dict[str, Any], seconds: float = 4.0, channels: int = 4,
                 points: int = 400, frame_width: int = 320):
        if (params.get("protocol") or params.get("url", "").split(":", 1)[0]) == "inproc":
            raise PreviewError(f"{key} uses protocol 'inproc': only nodes of its own process can read it")
        shape = params.get("shape")
        if not shape:
            raise PreviewError(f"{key} has no fixed shape")
        if make_dtype(params["dtype"]).fields is not None:
            raise PreviewError(f"{key} carries structured samples (events); nothing to plot")
        self.key, self.params = key, params
        self.video = _is_video(params)
        self.seconds, self.channels, self.points, self.frame_width = seconds, channels, points, frame_width
        self.rate = float(params.get("sample_rate") or 0) or None
        self.error: str | None = None
        self._frame: tuple[int, np.ndarray] | None = None
        self._lock = threading.Lock()
        self.total_channels = int(np.prod(shape[1:]))
        self.ring: RingBuffer | None = None      # the first channels only, at full rate
        if not self.video:
            self.ring = RingBuffer((max(2, int((self.rate or 1000.0) * seconds)),
                                    min(channels, self.total_channels)), make_dtype(params["dtype"]),
                                   fill=np.nan if make_dtype(params["dtype"]).kind == "f" else 0)
        self.input = InputStream(name=f"web preview {key}")
        self.input.connect(params)
        # a failure is shown on the page instead of the preview
        self._thread = ThreadPollInput(self.input, timeout=100, return_data=True,
                                       name=f"acqflow-web-preview {key}", on_data=self._on_chunk,
                                       on_end=self._on_end, on_error=self._on_error)
        self._thread.start()

    def _on_chunk(self, index: int, data: np.ndarray) -> None:
        with self._lock:
            if self.video:
                if len(data):
                    self._frame = (index, np.array(data[-1]))
            else:
                ring = self.ring
                assert ring is not None          # (signals have one)
                if ring.index() == 0 and index > len(data):
                    ring.reset_index(index - len(data))    # joined a running stream
                ring.new_chunk(data.reshape(len(data), -1)[:, :ring.shape[1]], index)

    def _on_end(self) -> None:
        self.error = f"{self.key} was closed"

    def _on_error(self, message: str) -> None:
        self.error = message

    def read(self) -> dict[str, Any]:
        """{"kind": "signal", "rate", "t0", "data": [[...] per channel]} or
        {"kind": "frame", "index", "width", "height", "rgba": base64}; "error" when it failed."""
        if self.error:
            return {"kind": "error", "error": self.error}
        with self._lock:
            return self._read_frame() if self.video else self._read_signal()

    def _read_signal(self) -> dict[str, Any]:
        ring = self.ring
        assert ring is not None                  # (signals have one)
        stop = ring.index()
        n = min(stop - ring.first_index(), int((self.rate or 1000.0) * self.seconds))
        step = max(1, n // self.points)
        start = (stop - n + step - 1) // step * step       # aligned: the trace does not jitter
        if n <= 0 or start >= stop:
            return {"kind": "signal", "rate": self.rate, "t0": None, "step": step, "data": []}
        block = np.asarray(ring[start:stop])[::step].astype(float)
        data = [[round(v, 6) if np.isfinite(v) else None for v in col] for col in block.T.tolist()]
        return {"kind": "signal", "rate": self.rate, "step": step, "index": stop,
                "t0": start / self.rate if self.rate else start, "channels": self.total_channels,
                "data": data}

    def _read_frame(self) -> dict[str, Any]:
        if self._frame is None:
            return {"kind": "frame", "index": None}
        index, frame = self._frame
        bgr = self.params.get("pixel_format") == "bgr"
        return dict(frame_rgba(frame, self.frame_width, bgr), kind="frame", index=index)

    def close(self) -> None:
        self._thread.stop()
        self._thread.join(5)
        self.input.close()


def frame_rgba(frame: np.ndarray, max_width: int = 320, bgr: bool = False) -> dict[str, Any]:
    """A frame (H, W), (H, W, 1|3|4), any numeric dtype, as base64 RGBA bytes at most
    ``max_width`` wide (every k-th pixel), for a canvas' ImageData; ``bgr``: OpenCV's order."""
    step = max(1, -(-frame.shape[1] // max_width))
    img = frame[::step, ::step]
    if img.ndim == 2:
        img = img[:, :, None]
    if img.dtype != np.uint8:
        lo, hi = float(np.nanmin(img)), float(np.nanmax(img))
        img = ((img - lo) * (255.0 / (hi - lo or 1.0))).clip(0, 255).astype(np.uint8)
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    if img.shape[2] >= 3 and bgr:
        img = img[:, :, [2, 1, 0]]
    if img.shape[2] == 3:
        img = np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], axis=2)
    img = np.ascontiguousarray(img[:, :, :4])
    return {"width": img.shape[1], "height": img.shape[0], "rgba": base64.b64encode(img.tobytes()).decode()}
