"""pyacq's AviRecorder: each video stream to ``<name>.avi`` (OpenCV's VideoWriter), with pyacq's
side files ``avi_stream_properties.json`` and ``annotations.json``.

pyacq encodes with PyAV; acqflow's video extra is OpenCV, so ``codec_name`` picks an
OpenCV fourcc: 'mpeg4' (default here), 'mjpeg', 'ffv1', 'xvid', or 'h264' when the
OpenCV build has an h264 encoder (opencv-python-headless has none: a clear error).
"""
from __future__ import annotations

import os

import numpy as np

from ....dataflow.graph.registry import register_node_type
from ....devices._base import require
from ._common import StreamsRecorder

__all__ = ["AviRecorder", "CODECS", "HAVE_AV"]

#: pyacq's av codec names -> OpenCV fourcc.
CODECS = {"mpeg4": "mp4v", "mjpeg": "MJPG", "ffv1": "FFV1", "xvid": "XVID", "h264": "avc1"}
#: pyacq's flag for its encoder; acqflow encodes with OpenCV (pip install acqflow[video]).
HAVE_AV = True


class AviRecorder(StreamsRecorder):
    """``configure(streams=[...] or {name: stream}, autoconnect=True, dirname=path, codec_name='mpeg4')``.

    Inputs are ``video0``, ``video1``... (or the dict's keys); frames are uint8 (h, w, 3)
    (RGB, or BGR when the stream says ``pixel_format='bgr'``) or gray (h, w).  ``dirname``
    may exist (as in pyacq).  ``start_index`` is the first recorded frame's index.
    """

    properties_file = "avi_stream_properties.json"
    _must_not_exist = False

    @staticmethod
    def _input_name(i: int) -> str:
        return f"video{i}"

    def _configure_recorder(self, codec_name: str = "mpeg4") -> None:
        if codec_name not in CODECS:
            raise ValueError(f"{self.name}: codec_name {codec_name!r} is not one of {', '.join(CODECS)}")
        self.codec_name = codec_name

    def _initialize(self) -> None:
        cv2 = require("cv2", "video", "AviRecorder")
        self._init_properties()
        self.writers = {}
        for name, inp in self.inputs.items():
            shape = inp.params.get("shape")
            if shape is None or len(shape) not in (3, 4) or make_uint8(inp.params) is False:
                raise ValueError(f"{self.name}: input {name!r} needs uint8 frames shaped (-1, h, w[, 3]), "
                                 f"got shape {shape!r} dtype {inp.params.get('dtype')!r}")
            h, w = int(shape[1]), int(shape[2])
            path = os.path.join(self.dirname, name + ".avi")
            writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*CODECS[self.codec_name]),
                                     float(inp.params.get("sample_rate") or 30.0), (w, h), len(shape) == 4)
            if not writer.isOpened():
                raise ValueError(f"{self.name}: this OpenCV build cannot encode codec_name="
                                 f"{self.codec_name!r}; use 'mpeg4', 'mjpeg' or 'ffv1'")
            self.writers[name] = writer
        self._first: dict[str, bool] = {name: True for name in self.inputs}
        self._cv2 = cv2

    def _start(self) -> None:
        if getattr(self, "_released", False):
            raise RuntimeError(f"{self.name}: the AVI files were finished by stop(); record again "
                               f"with a new AviRecorder")
        self._start_threads(self._write)

    def _write(self, name: str, pos: int, frames: np.ndarray) -> None:
        frames = np.asarray(frames)
        if self._first[name]:
            self._first[name] = False
            self._set_property(name, "start_index", int(pos) - len(frames))
        rgb = self.inputs[name].params.get("pixel_format", "rgb") != "bgr"
        for frame in frames:
            if frame.ndim == 3 and rgb:
                frame = np.ascontiguousarray(frame[:, :, 2::-1])     # OpenCV writes BGR
            self.writers[name].write(frame)

    def _stop(self) -> None:
        self._stop_threads(self._write)
        for writer in self.writers.values():
            writer.release()
        self._released = True

    def _close(self) -> None:
        for writer in getattr(self, "writers", {}).values():
            writer.release()


def make_uint8(params: dict) -> bool:
    """True when the stream's samples are uint8."""
    return np.dtype(params.get("dtype", "uint8")) == np.uint8


register_node_type(AviRecorder)
