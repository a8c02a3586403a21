"""Image operations on video streams: colour conversion, resize, crop, blur, frame differences.

OpenCV is imported on first use (``pip install 'acqflow[video]'``).  Every node
keeps frame indexes (output frame i is made from input frame i).  Stateless
nodes pass gaps through; FrameDiff and MotionEnergy restart after a gap.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..dataflow.streams.spec import inherited_params
from ..dataflow import paramcheck as check
from .base import StreamNode

__all__ = ["ColorConvert", "Resize", "Crop", "Blur", "FrameDiff", "MotionEnergy", "cv2_module"]


def cv2_module():
    """The cv2 module, or an ImportError saying which extra installs it."""
    try:
        import cv2
    except ImportError as exc:
        raise ImportError("image nodes need OpenCV: pip install 'acqflow[video]' "
                          f"(opencv-python-headless); import failed: {exc}") from exc
    return cv2


class _FrameNode(StreamNode):
    """A video node applying ``frame_op`` to each frame; output shape from a probe frame."""

    _input_specs = {"input": {"streamtype": "video", "ndim": (3, 4), "dtypes": ("uint8",)}}
    _output_specs = {"output": {"streamtype": "video"}}

    def frame_op(self, frame: np.ndarray) -> np.ndarray:
        """The node's operation on one frame (h, w[, c]); returns the new frame."""
        raise NotImplementedError

    def validate(self, input_params: dict) -> None:
        self._probe(input_params)

    def _probe(self, input_params: dict) -> tuple:
        frame = np.zeros(tuple(input_params["shape"][1:]), np.uint8)
        try:
            out = np.asarray(self.frame_op(frame))
        except ImportError:
            raise
        except Exception as exc:
            raise ValueError(f"cannot process frames of shape {frame.shape}: {exc}") from None
        return (-1,) + out.shape

    def output_params(self, input_params: dict) -> dict:
        return inherited_params(input_params, shape=self._probe(input_params), dtype="uint8")

    def _initialize(self) -> None:
        self._out_shape = tuple(self.outputs["output"].params["shape"][1:])
        super()._initialize()

    def process(self, index: int, data: np.ndarray) -> np.ndarray:
        out = np.empty((len(data),) + self._out_shape, np.uint8)
        for k, frame in enumerate(data):
            out[k] = self.frame_op(frame)
        return out


class ColorConvert(_FrameNode):
    """``cv2.cvtColor`` with ``code`` (e.g. 'BGR2GRAY', 'RGB2BGR', 'GRAY2BGR')."""

    def _configure(self, code: str = "BGR2GRAY") -> None:
        self.code = str(code)
        self._code: int | None = None

    def frame_op(self, frame: np.ndarray) -> np.ndarray:
        cv2 = cv2_module()
        if self._code is None:
            name = "COLOR_" + self.code.upper()
            if not hasattr(cv2, name):
                raise ValueError(f"code={self.code!r} is not an OpenCV colour conversion (cv2.{name})")
            self._code = getattr(cv2, name)
        return cv2.cvtColor(frame, self._code)

    def output_params(self, input_params: dict) -> dict:
        """As the input's, with ``pixel_format`` the code's target ('RGB2BGR' -> 'bgr'), so
        viewers and video exports show the converted frames in their true colours."""
        params = super().output_params(input_params)
        target = self.code.upper().partition("2")[2].partition("_")[0].lower()
        return {**params, "pixel_format": target} if target else params


class Resize(_FrameNode):
    """``cv2.resize`` to ``width`` x ``height`` or by ``scale``; ``interpolation`` 'area', 'linear', ..."""

    def _configure(self, width: int | None = None, height: int | None = None,
                   scale: float | None = None, interpolation: str = "area") -> None:
        if scale is None and (width is None or height is None):
            raise ValueError("give width and height, or scale")
        if scale is not None:
            check.positive_number("scale", scale)
        self.width, self.height, self.scale = width, height, scale
        self.interpolation = str(interpolation)

    def frame_op(self, frame: np.ndarray) -> np.ndarray:
        cv2 = cv2_module()
        flag = getattr(cv2, "INTER_" + self.interpolation.upper(), None)
        if flag is None:
            raise ValueError(f"interpolation={self.interpolation!r} is not an OpenCV INTER_* mode")
        if self.scale is not None:
            size = (max(1, round(frame.shape[1] * self.scale)), max(1, round(frame.shape[0] * self.scale)))
        else:
            assert self.width is not None and self.height is not None   # (checked at configure)
            size = (int(self.width), int(self.height))
        out = cv2.resize(frame, size, interpolation=flag)
        return out.reshape(out.shape[:2] + frame.shape[2:])


class Crop(_FrameNode):
    """The ``width`` x ``height`` region whose top-left corner is (``x``, ``y``)."""

    def _configure(self, x: int = 0, y: int = 0, width: int = 1, height: int = 1) -> None:
        if min(x, y) < 0 or min(width, height) < 1:
            raise ValueError(f"crop x={x}, y={y}, width={width}, height={height} is not a region")
        self.x, self.y, self.width, self.height = int(x), int(y), int(width), int(height)

    def frame_op(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        if self.x + self.width > w or self.y + self.height > h:
            raise ValueError(f"region ({self.x}, {self.y}, {self.width}, {self.height}) is not "
                             f"inside {w}x{h} frames")
        return frame[self.y:self.y + self.height, self.x:self.x + self.width]

    def process(self, index: int, data: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(data[:, self.y:self.y + self.height, self.x:self.x + self.width])


class Blur(_FrameNode):
    """Gaussian (``sigma``; 0: from ``ksize``), box or median blur with odd ``ksize``."""

    def _configure(self, ksize: int = 5, kind: str = "gaussian", sigma: float = 0.0) -> None:
        if check.int_in("ksize", ksize) % 2 == 0:
            check.must_be("ksize", "an odd int >= 1", ksize)
        check.one_of("gaussian", "box", "median")("kind", kind)
        self.ksize, self.kind, self.sigma = int(ksize), kind, float(sigma)

    def frame_op(self, frame: np.ndarray) -> np.ndarray:
        cv2 = cv2_module()
        k = self.ksize
        if self.kind == "gaussian":
            out = cv2.GaussianBlur(frame, (k, k), self.sigma)
        elif self.kind == "box":
            out = cv2.blur(frame, (k, k))
        else:
            out = cv2.medianBlur(np.ascontiguousarray(frame), k)
        return out.reshape(frame.shape)


class _DiffNode(StreamNode):
    """Differences with the previous frame, vectorised over the chunk; restarts after gaps."""

    _input_specs = _FrameNode._input_specs
    _output_specs = _FrameNode._output_specs

    def reset(self) -> None:
        self._prev: np.ndarray | None = None

    def diffs(self, data: np.ndarray) -> tuple[np.ndarray, bool]:
        """``|frame - previous|`` as int16 for each frame; False if frame 0 has no predecessor."""
        frames = np.asarray(data, np.int16)
        prev = frames[:1] if self._prev is None else self._prev[None]
        had_prev = self._prev is not None
        self._prev = frames[-1]
        return np.abs(np.diff(np.concatenate([prev, frames]), axis=0)), had_prev


class FrameDiff(_DiffNode):
    """Video of ``|frame - previous frame|`` (the first frame, and the first after a gap: zeros)."""

    def process(self, index: int, data: np.ndarray) -> np.ndarray:
        return self.diffs(data)[0].astype(np.uint8)


class MotionEnergy(_DiffNode):
    """Signal (-1, 1) float32: mean ``|frame - previous|`` over ``roi`` (x, y, w, h) or the frame.

    The first frame, and the first after a gap, has no predecessor: NaN.
    """

    _output_specs = {"output": {"streamtype": "analogsignal"}}

    def _configure(self, roi: Sequence[int] | None = None) -> None:
        if roi is not None and (len(roi) != 4 or min(roi) < 0 or min(roi[2:]) < 1):
            check.must_be("roi", "(x, y, width, height)", roi)
        self.roi = None if roi is None else tuple(int(v) for v in roi)

    def validate(self, input_params: dict) -> None:
        if self.roi is not None:
            h, w = input_params["shape"][1:3]
            x, y, rw, rh = self.roi
            if x + rw > w or y + rh > h:
                raise ValueError(f"roi {self.roi} is not inside {w}x{h} frames")

    def output_params(self, input_params: dict) -> dict:
        params = inherited_params(input_params, streamtype="analogsignal", dtype="float32",
                                  shape=(-1, 1), channel_info=[{"name": "motion_energy"}])
        return params

    def process(self, index: int, data: np.ndarray) -> np.ndarray:
        if self.roi is not None:
            x, y, w, h = self.roi
            data = data[:, y:y + h, x:x + w]
        d, had_prev = self.diffs(data)
        energy = d.reshape(len(d), -1).mean(axis=1, dtype=np.float64).astype(np.float32)
        if not had_prev:
            energy[0] = np.nan
        return energy[:, None]
