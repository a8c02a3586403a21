"""pyacq's ImageViewer: acqflow's ImageViewer with ``num_video``/``nb_column`` and inputs ``video{i}``."""
from __future__ import annotations

from typing import Any

import numpy as np

from ....dataflow.spec import make_dtype
from ....viewers.image import ImageViewer as _ImageViewer
from ..dsp._names import AliasDict
from ._widgetnode import PyacqViewer

__all__ = ["ImageViewer"]


class ImageViewer(PyacqViewer, _ImageViewer):
    """``configure(num_video=1, nb_column=None)``; inputs ``video0``, ``video1``... (``video0`` is
    acqflow's ``video``).  Frames come as a ``video`` stream or, as in pyacq's test, as an
    ``analogsignal`` of uint8 shaped (-1, h, w, 3)."""

    _input_specs = {"video": {}}

    def __init__(self, name: str | None = None, **kwargs: Any):
        super().__init__(name=name)
        self.inputs = AliasDict(self, "input", self.inputs, {"video0": "video"})

    def _configure_viewer(self, num_video: int = 1, nb_column: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("n_inputs", num_video)
        kwargs.setdefault("columns", nb_column)
        super()._configure_viewer(**kwargs)
        for inp in self.inputs.values():
            inp.spec.pop("streamtype", None)          # video or analogsignal frames

    def check_params(self, inputname: str, params: dict) -> None:
        super().check_params(inputname, params)
        kind = params.get("streamtype")
        if kind not in ("video", "analogsignal") or make_dtype(params.get("dtype", "uint8")) != np.uint8:
            raise ValueError(f"node {self.name!r} input {inputname!r}: needs uint8 frames (video or "
                             f"analogsignal), got streamtype={kind!r} dtype={params.get('dtype')!r}")
