"""pyacq's AviRecorder: each video stream to ``<name>.avi`` (OpenCV's VideoWriter), with pyacq's
side files ``avi_stream_properties.json`` and ``annotations.json``.

pyacq encodes with PyAV; acqflow's video extra is OpenCV, so ``codec_name`` picks an
OpenCV fourcc: 'mpeg4' (default here), 'mjpeg', 'ffv1', 'xvid', or 'h264' when the
OpenCV build has an h264 encoder (opencv-python-headless has none: a clear error).
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from ....dataflow.graph.registry import register_node_type
from ....devices._base import require
from ._common import FilesWriter, PyacqRecorder

__all__ = ["AviRecorder", "CODECS", "HAVE_AV"]

#: pyacq's av codec names -> OpenCV fourcc.
CODECS = {"mpeg4": "mp4v", "mjpeg": "MJPG", "ffv1": "FFV1", "xvid": "XVID", "h264": "avc1"}
#: pyacq's flag for its encoder; acqflow encodes with OpenCV (pip install acqflow[video]).
HAVE_AV = True


class AviWriter(FilesWriter):
    """One OpenCV VideoWriter per stream; ``finish()`` (at the node's stop) ends the files."""

    properties_file = "avi_stream_properties.json"

    def __init__(self, node: Any, dirname: str):
        self._cv2 = require("cv2", "video", "AviRecorder")
        super().__init__(node, dirname)
        self.writers: dict[str, Any] = {}
        self.rgb: dict[str, bool] = {}
        self.finished = False

    def add_stream(self, name: str, params: dict, codec: Any = None) -> None:
        cv2, shape, codec_name = self._cv2, params.get("shape"), self.node.codec_name
        if shape is None or len(shape) not in (3, 4) or np.dtype(params.get("dtype", "uint8")) != np.uint8:
            raise ValueError(f"{self.node.name}: input {name!r} needs uint8 frames shaped (-1, h, w[, 3]), "
                             f"got shape {shape!r} dtype {params.get('dtype')!r}")
        h, w = int(shape[1]), int(shape[2])
        writer = cv2.VideoWriter(os.path.join(self.dirname, name + ".avi"),
                                 cv2.VideoWriter_fourcc(*CODECS[codec_name]),
                                 float(params.get("sample_rate") or 30.0), (w, h), len(shape) == 4)
        if not writer.isOpened():
            raise ValueError(f"{self.node.name}: this OpenCV build cannot encode codec_name="
                             f"{codec_name!r}; use 'mpeg4', 'mjpeg' or 'ffv1'")
        super().add_stream(name, params, codec)
        self.writers[name] = writer
        self.rgb[name] = params.get("pixel_format", "rgb") != "bgr"

    def publish(self) -> None:
        if self.finished:
            raise RuntimeError(f"{self.node.name}: the AVI files were finished by stop(); record "
                               f"again with a new AviRecorder")

    def write_samples(self, name: str, frames: Any, index: int) -> None:
        for frame in np.asarray(frames):
            if frame.ndim == 3 and self.rgb[name]:
                frame = np.ascontiguousarray(frame[:, :, 2::-1])     # OpenCV writes BGR
            self.writers[name].write(frame)

    def finish(self) -> None:
        """End the AVI files (pyacq's stop() does): they are complete and readable."""
        for writer in self.writers.values():
            writer.release()
        self.finished = True

    def close(self) -> None:
        self.finish()
        super().close()


class AviRecorder(PyacqRecorder):
    """``configure(streams=[...] or {name: stream}, autoconnect=True, dirname=path, codec_name='mpeg4')``.

    Inputs are ``video0``, ``video1``... (or the dict's keys); frames are uint8 (h, w, 3)
    (RGB, or BGR when the stream says ``pixel_format='bgr'``) or gray (h, w).  ``dirname``
    may exist (as in pyacq).  ``start_index`` is the first recorded frame's index.
    """

    writer_class = AviWriter
    _must_not_exist = False

    @staticmethod
    def _input_name(i: int) -> str:
        return f"video{i}"

    def _configure(self, streams: Any = (), autoconnect: bool = True, dirname: str | None = None,  # type: ignore[override]  # pyacq's arguments
                   codec_name: str = "mpeg4") -> None:
        if codec_name not in CODECS:
            raise ValueError(f"{self.name}: codec_name {codec_name!r} is not one of {', '.join(CODECS)}")
        super()._configure(streams=streams, autoconnect=autoconnect, dirname=dirname)
        self.codec_name = codec_name

    def _stop(self) -> None:
        super()._stop()
        if isinstance(self.writer, AviWriter):       # (made by initialize())
            self.writer.finish()


register_node_type(AviRecorder)
