"""pyacq's QDigitalOscilloscope: acqflow's DigitalOscilloscope, also on an analogsignal of uint8."""
from __future__ import annotations

from typing import Any


from ....dataflow.graph.registry import register_node_type
from ....viewers.digital import DigitalOscilloscope
from ._widgetnode import PyacqViewer

__all__ = ["QDigitalOscilloscope"]


class QDigitalOscilloscope(PyacqViewer, DigitalOscilloscope):
    """Each bit of a uint8 stream in its lane; pyacq feeds it an ``analogsignal`` of uint8 (bytes
    as channels), acqflow a ``digitalsignal``: both are accepted."""

    _input_specs: dict[str, dict] = {"signals": {"streamtype": ("digitalsignal", "analogsignal"),
                                                 "ndim": 2, "dtypes": ("uint8",)}}

    def _configure_viewer(self, max_xsize: float = 60., **kwargs: Any) -> None:  # type: ignore[override]  # pyacq's arguments
        self.max_xsize = float(max_xsize)
        super()._configure_viewer(**kwargs)

    @property
    def nb_channel(self) -> int:
        return self.n_lanes()


register_node_type(QDigitalOscilloscope)
