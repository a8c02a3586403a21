"""pyacq's QOscilloscope: acqflow's Oscilloscope with pyacq's configure arguments and ``params``."""
from __future__ import annotations

from typing import Any

import numpy as np

from ....dataflow.paramcheck import positive_number
from ....dataflow.graph.registry import register_node_type
from ....viewers.oscilloscope import Oscilloscope
from ._widgetnode import PyacqViewer

__all__ = ["QOscilloscope", "BaseOscilloscope"]


class QOscilloscope(PyacqViewer, Oscilloscope):
    """``configure(with_user_dialog=True, max_xsize=60.)`` plus acqflow's Oscilloscope parameters.

    ``params`` / ``by_channel_params`` / ``all_params`` are pyqtgraph Parameter trees with
    pyacq's names (``xsize``, ``scale_mode``, ``decimation_method``, ``ch{i}``: gain,
    offset, visible); ``max_xsize`` bounds ``xsize``.
    """

    def _configure_viewer(self, max_xsize: float = 60., **kwargs: Any) -> None:  # type: ignore[override]  # pyacq's arguments
        self.max_xsize = positive_number(f"{self.name}: max_xsize", max_xsize, " s")
        super()._configure_viewer(**kwargs)

    def make_widget(self):
        widget = super().make_widget()
        from pyqtgraph.parametertree import Parameter
        self.params.param("xsize").setLimits([2. / self.sample_rate, self.max_xsize])
        self.all_params = Parameter.create(name="all param", type="group", children=[])
        return widget

    @property
    def nb_channel(self) -> int:
        return self.n_lanes()

    def get_visible_chunk(self) -> np.ndarray:
        """The samples of the shown window (time, channels), as pyacq's."""
        reader = self.readers["signals"]
        _, head = reader.snapshot()
        if head is None:
            return np.zeros((0, self.nb_channel))
        start = max(head - self.window_samples(), reader.ring.first_index())
        return self.transform(np.asarray(reader.ring[start:head]))


BaseOscilloscope = QOscilloscope

register_node_type(QOscilloscope)
