"""pyacq's QDigitalOscilloscope: acqflow's DigitalOscilloscope, also on an analogsignal of uint8."""
from __future__ import annotations

from typing import Any

import numpy as np

from ....dataflow.registry import register_node_type
from ....dataflow.spec import make_dtype
from ....viewers.digital import DigitalOscilloscope
from ._widgetnode import PyacqViewer

__all__ = ["QDigitalOscilloscope"]


class QDigitalOscilloscope(PyacqViewer, DigitalOscilloscope):
    """Each bit of a uint8 stream in its lane; pyacq feeds it an ``analogsignal`` of uint8 (bytes
    as channels), acqflow a ``digitalsignal``: both are accepted."""

    _accept = ("digitalsignal", "analogsignal")

    def _configure_viewer(self, max_xsize: float = 60., **kwargs: Any) -> None:
        self.max_xsize = float(max_xsize)
        super()._configure_viewer(**kwargs)

    def check_params(self, inputname: str, params: dict) -> None:
        super().check_params(inputname, params)
        if make_dtype(params.get("dtype", "float32")) != np.uint8:
            raise ValueError(f"node {self.name!r} input {inputname!r}: needs uint8 samples (8 bits per "
                             f"byte), got dtype {params.get('dtype')!r}")

    @property
    def nb_channel(self) -> int:
        return self.n_lanes()


register_node_type(QDigitalOscilloscope)
