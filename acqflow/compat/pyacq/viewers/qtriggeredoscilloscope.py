"""pyacq's QTriggeredOscilloscope: sweeps around threshold crossings, overlaid.

An AnalogTrigger and a TriggerAccumulator run inside the viewer, on the same stream.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.parametertree import Parameter
from pyqtgraph.Qt import QtWidgets

from ....dataflow.graph.registry import register_node_type
from ....viewers.base import ViewerNode, channel_names
from ..dsp.trigger import AnalogTrigger
from ..dsp.triggeraccumulator import TriggerAccumulator
from ._widgetnode import PyacqViewer

__all__ = ["QTriggeredOscilloscope"]

_PARAMS: list[dict[str, Any]] = [
    {"name": "ylim_max", "type": "float", "value": 10.},
    {"name": "ylim_min", "type": "float", "value": -10.},
    {"name": "background_color", "type": "color", "value": "k"},
    {"name": "refresh_interval", "type": "int", "value": 100, "limits": [5, 1000]},
    {"name": "display_labels", "type": "bool", "value": False},
]


class QTriggeredOscilloscope(PyacqViewer, ViewerNode):
    """Input ``signals``; ``trigger`` (an AnalogTrigger) and ``triggeraccumulator`` (a
    TriggerAccumulator) run on the same stream, set through their ``params`` as in pyacq.
    The last ``stack_size`` sweeps are drawn over each other (``t_vect`` on x), each channel
    with ``by_channel_params`` gain/offset/visible; ``params``: ylim_min/ylim_max,
    background_color, refresh_interval, display_labels.  ``label_count`` shows the events."""

    _input_specs = {"signals": {"streamtype": "analogsignal", "ndim": 2}}

    def __init__(self, name: str | None = None, **kwargs: Any):
        super().__init__(name=name)
        self.trigger = AnalogTrigger(name=f"{self.name}.trigger")
        self.triggeraccumulator = TriggerAccumulator(name=f"{self.name}.triggeraccumulator")
        self.plotted_trig = 0

    def _configure_viewer(self, max_xsize: float = 60., **kwargs: Any) -> None:
        self.max_xsize = float(max_xsize)
        super()._configure_viewer(**kwargs)

    def ring_size(self, inputname: str) -> int:
        """The viewer's own reader only follows the stream (the accumulator keeps the sweeps)."""
        return int(self.inputs[inputname].params["sample_rate"]) + 16

    def _initialize(self) -> None:
        params = self.inputs["signals"].params
        self.nb_channel = int(params["shape"][1])
        self.trigger.configure()
        self.trigger.input.connect(params)
        self.trigger.output.configure(protocol="inproc", transfermode="plaindata")
        self.trigger.initialize()
        self.triggeraccumulator.configure(max_stack_size=np.inf)
        self.triggeraccumulator.inputs["signals"].connect(params)
        self.triggeraccumulator.inputs["events"].connect(self.trigger.output)
        self.triggeraccumulator.initialize()
        self.params = Parameter.create(name="Global options", type="group",
                                       children=[dict(p) for p in _PARAMS])
        chans = [{"name": f"ch{i}", "type": "group", "children": [
            {"name": "gain", "type": "float", "value": 1., "step": 0.1},
            {"name": "offset", "type": "float", "value": 0., "step": 0.1},
            {"name": "visible", "type": "bool", "value": True}]} for i in range(self.nb_channel)]
        self.by_channel_params = Parameter.create(name="AnalogSignals", type="group", children=chans)
        super()._initialize()
        for tree in (self.params, self.by_channel_params, self.triggeraccumulator.params):
            tree.sigTreeStateChanged.connect(self._on_param_change)

    def make_widget(self) -> QtWidgets.QWidget:
        widget = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(widget)
        self.plot = pg.PlotWidget(background=self.params["background_color"])
        layout.addWidget(self.plot)
        row = QtWidgets.QHBoxLayout()
        layout.addLayout(row)
        self.but_startstop = QtWidgets.QPushButton("Start/Stop")
        self.but_startstop.setCheckable(True)
        self.but_startstop.setChecked(True)
        self.but_startstop.toggled.connect(self.start_or_stop_trigger)
        row.addWidget(self.but_startstop)
        reset = QtWidgets.QPushButton("Reset")
        reset.clicked.connect(self.reset_stack)
        row.addWidget(reset)
        self.label_count = QtWidgets.QLabel("Nb events: 0")
        row.addWidget(self.label_count)
        row.addStretch()
        self.vline = pg.InfiniteLine(pos=0, angle=90, pen="r")
        self.plot.addItem(self.vline)
        names = channel_names(self.inputs["signals"].params, self.nb_channel)
        self.channel_labels = []
        for name in names:
            label = pg.TextItem(name, color="#7FFF00", anchor=(0, 0.5))
            label.setVisible(False)
            self.plot.addItem(label)
            self.channel_labels.append(label)
        self.list_curves: list[list] = []
        self.reset_curves_data()
        return widget

    def _start(self) -> None:
        super()._start()
        self._timer.setInterval(int(self.params["refresh_interval"]))
        self.trigger.start()
        self.triggeraccumulator.start()

    def _stop(self) -> None:
        super()._stop()
        for node in (self.trigger, self.triggeraccumulator):
            if node.running():
                node.stop()

    def _close(self) -> None:
        super()._close()
        for node in (self.triggeraccumulator, self.trigger):
            node.close()

    def start_or_stop_trigger(self, state: bool) -> None:
        """The Start/Stop button: pause or resume triggering (the viewer keeps running)."""
        for node in (self.trigger, self.triggeraccumulator):
            if state and not node.running():
                node.start()
            elif not state and node.running():
                node.stop()

    # -- drawing -------------------------------------------------------------
    def reset_curves_data(self) -> None:
        for curves in self.list_curves:
            for curve in curves:
                self.plot.removeItem(curve)
        stack_size = self.triggeraccumulator.params["stack_size"]
        self.list_curves = [[self.plot.plot(pen="#7FFF00") for _ in range(stack_size)]
                            for _ in range(self.nb_channel)]
        self.plotted_trig = 0

    def reset_stack(self) -> None:
        self.triggeraccumulator.reset_stack()
        for curves in self.list_curves:
            for curve in curves:
                curve.setData([], [])
        self.plotted_trig = 0

    def refresh(self) -> bool:
        acc = self.triggeraccumulator
        stack_size = acc.params["stack_size"]
        gains, offsets, visible = self._channel_values()
        total = acc.total_trig
        self.plotted_trig = max(self.plotted_trig, total - stack_size)
        drew = self.plotted_trig < total
        while self.plotted_trig < total:
            pos = self.plotted_trig % stack_size
            for c in range(self.nb_channel):
                if visible[c]:
                    self.list_curves[c][pos].setData(acc.t_vect, acc.stack[pos, c, :] * gains[c] + offsets[c])
            self.plotted_trig += 1
        self.plot.setXRange(acc.t_vect[0], acc.t_vect[-1], padding=0)
        self.plot.setYRange(self.params["ylim_min"], self.params["ylim_max"], padding=0)
        self.label_count.setText(f"Nb events: {total}")
        for c, label in enumerate(self.channel_labels):
            label.setVisible(bool(visible[c] and self.params["display_labels"]))
            label.setPos(acc.params["left_sweep"], offsets[c])
        if drew:
            self.drawn_chunks += 1
        return drew

    def _channel_values(self):
        kids = self.by_channel_params.children()
        return (np.array([k["gain"] for k in kids]), np.array([k["offset"] for k in kids]),
                np.array([k["visible"] for k in kids], dtype=bool))

    def get_visible_chunk(self) -> np.ndarray:
        acc = self.triggeraccumulator
        pos = (self.plotted_trig - 1) % acc.params["stack_size"]
        return acc.stack[pos].T

    def _on_param_change(self, _tree, changes) -> None:
        for param, change, data in changes:
            if change != "value":
                continue
            name = param.name()
            if name in ("gain", "offset"):
                self.plotted_trig = max(self.triggeraccumulator.total_trig
                                        - self.triggeraccumulator.params["stack_size"], 0)
            elif name == "visible":
                c = self.by_channel_params.children().index(param.parent())
                for curve in self.list_curves[c]:
                    curve.setVisible(bool(data))
            elif name == "background_color":
                self.plot.setBackground(data)
            elif name == "refresh_interval":
                self.set_refresh_rate(1000.0 / int(data))
            elif name in ("left_sweep", "right_sweep", "stack_size"):
                self.reset_curves_data()


register_node_type(QTriggeredOscilloscope)
