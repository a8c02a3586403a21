"""EventRaster: events/markers on a scrolling time line, one lane per label."""
from __future__ import annotations

import collections
from typing import Any, Mapping

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtWidgets

from ..dataflow.streams import clock
from ..dataflow import paramcheck as check
from ..dataflow.streams.spec import make_dtype
from .base import ViewerNode
from .oscilloscope import PALETTE

__all__ = ["EventRaster"]


class EventRaster(ViewerNode):
    """Ticks for the events of input ``events`` on a time line ending now.

    Time of an event: its ``time`` field (acqflow clock, as EventSource sends; a
    time on another host's clock is converted with the Manager's clock offsets)
    when there is one; else its ``index`` divided by the stream's
    ``reference_rate`` / ``sample_rate``, placed relative to when its chunk
    arrived.  Each distinct label gets a lane (first seen on top; at most
    ``max_lanes``, 16, the rest share the last one); ``lanes`` fixes the lane
    labels up front.  ``xsize`` (s shown, 10), ``show_labels`` (the newest events'
    labels written next to their tick, True).  Events more than ``max_events``
    (10000) behind are forgotten.
    """

    _input_specs = {"events": {"streamtype": "event"}}
    _input_mode = "queue"
    _default_size = (800, 300)

    def _configure_viewer(self, xsize: float = 10.0, max_lanes: int = 16, lanes: list | None = None,
                          show_labels: bool = True, max_events: int = 10000) -> None:
        check.positive_number(f"{self.name}: xsize", xsize, " s")
        self.xsize, self.max_lanes, self.show_labels = float(xsize), int(max_lanes), bool(show_labels)
        self.lane_labels: list[bytes] = [x.encode() if isinstance(x, str) else bytes(x) for x in lanes or []]
        self.max_events = int(max_events)

    def check_params(self, inputname: str, params: dict) -> None:
        fields: Mapping[str, Any] = make_dtype(params["dtype"]).fields or {}
        if "time" not in fields and "index" not in fields:
            raise ValueError(f"node {self.name!r} input {inputname!r}: events need a 'time' or an "
                             f"'index' field, got dtype {params['dtype']!r}")

    def on_reader(self, inputname: str, reader) -> None:
        reader.maxlen = self.max_events

    def make_widget(self) -> QtWidgets.QWidget:
        params = self.inputs["events"].params
        fields: Mapping[str, Any] = make_dtype(params["dtype"]).fields or {}
        self._has_time, self._has_label = "time" in fields, "label" in fields
        self._rate = float(params.get("reference_rate") or params.get("sample_rate") or 1.0)
        self._events: collections.deque = collections.deque(maxlen=self.max_events)   # (t, lane, label)
        self._anchor: tuple[int, float] | None = None
        self.plot = pg.PlotWidget(background="k")
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        item.setLabel("bottom", "time", units="s")
        item.showGrid(x=True, alpha=0.3)
        self.scatter = pg.ScatterPlotItem(symbol="|", size=18, pxMode=True)
        item.addItem(self.scatter)
        self.texts: list[pg.TextItem] = []
        self._layout()
        return self.plot

    def _lane(self, label: bytes) -> int:
        if label not in self.lane_labels:
            if len(self.lane_labels) >= self.max_lanes:
                return self.max_lanes - 1
            self.lane_labels.append(label)
            self._layout()
        return self.lane_labels.index(label)

    def _layout(self) -> None:
        n = max(1, len(self.lane_labels))
        ticks = [(n - 1 - i, lab.decode("utf-8", "replace")) for i, lab in enumerate(self.lane_labels)]
        axis = self.plot.getPlotItem().getAxis("left")
        axis.setTicks([ticks, []])
        self.plot.setRange(xRange=(-self.xsize, 0), yRange=(-0.6, n - 0.4), padding=0)

    def lane_color(self, lane: int) -> tuple[int, int, int]:
        """RGB of a lane's ticks."""
        return pg.mkColor(PALETTE[lane % len(PALETTE)]).getRgb()[:3]

    def refresh(self) -> bool:
        items = self.readers["events"].take()
        now = clock.now()
        for _, data, arrival in items:
            if self._has_time:             # on the sender's clock: moved to this process's
                offset = self.inputs["events"].clock_offset()
                times = np.asarray(data["time"], float) - (offset[0] if offset else 0.0)
            else:
                idx = np.asarray(data["index"], np.int64)
                if self._anchor is None or idx[-1] > self._anchor[0]:
                    self._anchor = (int(idx[-1]), arrival)
                times = self._anchor[1] + (idx - self._anchor[0]) / self._rate
            labels = data["label"] if self._has_label else [b""] * len(data)
            for t, label in zip(times, labels):
                label = bytes(label)
                self._events.append((float(t), self._lane(label), label))
        reader = self.readers["events"]
        self.skipped = reader.overflow
        self.drawn_chunks += len(items)
        while self._events and self._events[0][0] < now - self.xsize:
            self._events.popleft()
        if not self._events and not items:
            return False
        self._draw(now)
        return True

    def _draw(self, now: float) -> None:
        self.drawn_at = now                  # the clock time at x = 0 of what is shown
        n = max(1, len(self.lane_labels))
        events = list(self._events)
        x = np.array([t - now for t, _, _ in events])
        lanes = [lane for _, lane, _ in events]
        y = np.array([n - 1 - lane for lane in lanes], float)
        colors = [self.lane_color(lane) for lane in lanes]
        self.scatter.setData(x=x, y=y, pen=[pg.mkPen(c, width=2) for c in colors],
                             brush=[pg.mkBrush(c) for c in colors])
        if self.show_labels:
            item = self.plot.getPlotItem()
            for text in self.texts:
                item.removeItem(text)
            self.texts = []
            for (t, lane, label), xi, yi in list(zip(events, x, y))[-20:]:
                if label:
                    text = pg.TextItem(label.decode("utf-8", "replace"), color="#d0d0d0", anchor=(0, 1))
                    text.setPos(xi, yi + 0.25)
                    item.addItem(text)
                    self.texts.append(text)
