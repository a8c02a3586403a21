"""pyacq's ImageViewer: acqflow's ImageViewer with ``num_video``/``nb_column`` and inputs ``video{i}``."""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from ....dataflow.streams.spec import make_dtype
from ....viewers.image import ImageViewer as _ImageViewer
from ..dsp._names import AliasDict
from ._widgetnode import PyacqViewer

__all__ = ["ImageViewer"]


class ImageViewer(PyacqViewer, _ImageViewer):
    """``configure(num_video=1, nb_column=None)``; inputs ``video0``, ``video1``... (``video0`` is
    acqflow's ``video``).  Frames come as a ``video`` stream, an ``analogsignal`` of uint8
    shaped (-1, h, w, 3), or pyacq's images: an ``analogsignal`` of uint8 shaped (-1, w, 3)
    whose chunks are one image each (a ``video`` stream of frames of any size, see
    pyacq.core.stream), each shown at its own size."""

    _input_specs = {"video": {}}

    def __init__(self, name: str | None = None, **kwargs: Any):
        super().__init__(name=name)
        self.inputs = AliasDict(self, "input", self.inputs, {"video0": "video"})

    def _configure_viewer(self, num_video: int = 1, nb_column: int | None = None, **kwargs: Any) -> None:  # type: ignore[override]  # pyacq's arguments
        kwargs.setdefault("n_inputs", num_video)
        kwargs.setdefault("columns", nb_column)
        super()._configure_viewer(**kwargs)
        for inp in self.inputs.values():
            inp.spec.pop("streamtype", None)          # video or analogsignal frames

    def check_params(self, inputname: str, params: dict) -> None:
        if not (params.get("streamtype") == "video" and params.get("shape") is None):
            super().check_params(inputname, params)       # else pyacq's images: any size
        kind = params.get("streamtype")
        if kind not in ("video", "analogsignal") or make_dtype(params.get("dtype", "uint8")) != np.uint8:
            raise ValueError(f"node {self.name!r} input {inputname!r}: needs uint8 frames (video or "
                             f"analogsignal), got streamtype={kind!r} dtype={params.get('dtype')!r}")

    # -- pyacq's images: frames of any size, taken from a queue rather than a ring ------------
    def _any_size(self, name: str) -> bool:
        return self.inputs[name].params.get("shape") is None

    def _initialize(self) -> None:
        if any(self._any_size(name) for name in self.inputs):
            self._input_mode = "queue"
        super()._initialize()

    def make_widget(self):
        any_size = [name for name in self.inputs if self._any_size(name)]
        for name in any_size:                     # a 1x1 placeholder until the first frame
            self.inputs[name].params["shape"] = (-1, 1, 1, 3)
        try:
            return super().make_widget()
        finally:
            for name in any_size:
                self.inputs[name].params["shape"] = None

    def refresh(self) -> bool:
        if self._input_mode != "queue":
            return super().refresh()
        drew, now = False, time.monotonic()
        for name, reader in self.readers.items():
            items = reader.take()
            if not items:
                continue
            index, chunk, _ = items[-1]
            frame = np.asarray(chunk)[-1]
            if self.images[name].image is None or self.images[name].image.shape[:2] != frame.shape[:2]:
                self.views[name].setRange(xRange=(0, frame.shape[1]), yRange=(0, frame.shape[0]),
                                          padding=0)
            self._show(name, frame, index, now, skipped=self._skipped[name] + len(items) - 1)
            drew = True
        return drew
