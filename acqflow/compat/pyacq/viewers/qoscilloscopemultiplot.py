"""pyacq's QOscilloscopeMultiPlot: each channel in its own y range (``ylim_min``/``ylim_max`` per channel)."""
from __future__ import annotations

import logging
from typing import Any

import numpy as np
from pyqtgraph.parametertree import Parameter

from ....dataflow.graph.registry import register_node_type
from .qoscilloscope import QOscilloscope

__all__ = ["QOscilloscopeMultiPlot"]

log = logging.getLogger(__name__)


class QOscilloscopeMultiPlot(QOscilloscope):
    """A QOscilloscope whose ``by_channel_params`` are pyacq's multi-plot ones: ``ch{i}``:
    ``visible``, ``ylim_min``, ``ylim_max`` (default -10, 10).  Each visible channel gets its
    own horizontal band (stacked top-down, as pyacq's one plot per channel) in which its
    ``[ylim_min, ylim_max]`` fills the band; ``auto_scale()`` fits each range to the data shown.
    """

    def _configure_viewer(self, auto_scale: bool = False, **kwargs: Any) -> None:  # type: ignore[override]  # pyacq's arguments
        super()._configure_viewer(auto_scale=auto_scale, **kwargs)

    def make_widget(self):
        widget = super().make_widget()
        chans = [{"name": f"ch{i}", "type": "group", "children": [
            {"name": "visible", "type": "bool", "value": True},
            {"name": "ylim_max", "type": "float", "value": 10.},
            {"name": "ylim_min", "type": "float", "value": -10.}]} for i in range(len(self.gains))]
        self.by_channel_params = Parameter.create(name="AnalogSignals", type="group", children=chans)
        self.by_channel_params.sigTreeStateChanged.connect(self._on_channel_change)
        self.apply_ylims()
        return widget

    def _on_channel_change(self, _tree, changes) -> None:
        if any(change == "value" for _, change, _ in changes):
            self.apply_ylims()

    def apply_ylims(self) -> None:
        """Gains and offsets that put each channel's [ylim_min, ylim_max] in its band."""
        kids = self.by_channel_params.children()
        visible = np.array([k["visible"] for k in kids], bool)
        lo = np.array([k["ylim_min"] for k in kids], float)
        hi = np.array([k["ylim_max"] for k in kids], float)
        span = hi - lo
        span[span == 0] = 1.0
        centres = np.zeros(len(kids))
        centres[visible] = visible.sum() - 1 - np.arange(visible.sum())
        self.visible = visible
        self.gains = 0.9 / span
        self.offsets = centres - (hi + lo) / 2 * self.gains
        self._centres = centres
        self.auto_scale_on = False
        self._apply_layout()
        self._redraw()

    def auto_scale(self) -> None:
        """Fit each channel's ylim_min/ylim_max to the min and max of what is shown."""
        if getattr(self, "by_channel_params", None) is None:
            return super().auto_scale()
        sigs = self.get_visible_chunk()
        if len(sigs) == 0:
            return
        lo, hi = np.nanmin(sigs, axis=0), np.nanmax(sigs, axis=0)
        hi = np.where(hi == lo, hi + 1, hi)             # avoid a flat zoom, as pyacq
        tree = self.by_channel_params
        tree.blockSignals(True)
        try:
            for i, kid in enumerate(tree.children()):
                kid["ylim_min"], kid["ylim_max"] = float(lo[i]), float(hi[i])
        finally:
            tree.blockSignals(False)
        self.apply_ylims()


register_node_type(QOscilloscopeMultiPlot)
