"""EpochViewer: a triggered oscilloscope: the latest epochs overlaid, and their running average."""
from __future__ import annotations

import collections
import threading
from typing import Any, Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtWidgets

from ..dataflow.streams.spec import make_dtype
from ..dataflow import paramcheck as check
from .base import ViewerNode, channel_names
from .oscilloscope import PALETTE

__all__ = ["EpochViewer"]


class EpochViewer(ViewerNode):
    """Epochs of input ``epochs`` (the Epocher's output: records ``(index, label, epoch)``).

    One plot per channel (``channels``, default the first 16), time from -pre to
    +post s (params ``pre``/``sample_rate`` of the stream).  The newest
    ``max_epochs`` (10) epochs are drawn thin and faded, the average bold.  The
    average counts every epoch received (it is kept by the reader thread, so it
    is exact even when the display skips epochs); ``labels`` keeps only some
    labels; ``reset()`` clears it.  ``columns`` (plots per row, 1 up to 4
    channels, else 2).  Epochs never drawn individually count in ``skipped``.
    """

    _input_specs = {"epochs": {"streamtype": "event"}}
    _input_mode = "queue"
    _default_size = (700, 500)

    def _configure_viewer(self, max_epochs: int = 10, channels: Sequence[int] | None = None,
                          labels: Sequence[str] | None = None, columns: int | None = None) -> None:
        check.int_in(f"{self.name}: max_epochs", max_epochs)
        self.max_epochs, self.columns = max_epochs, columns
        self.channels = None if channels is None else [int(c) for c in channels]
        self.labels = None if labels is None else {x.encode() if isinstance(x, str) else bytes(x)
                                                   for x in labels}
        self._lock = threading.Lock()
        self.n_epochs = 0
        self._sum: np.ndarray | None = None

    def check_params(self, inputname: str, params: dict) -> None:
        fields: Mapping[str, Any] = make_dtype(params["dtype"]).fields or {}
        if "epoch" not in fields or len(fields["epoch"][0].shape) != 2:
            raise ValueError(f"node {self.name!r} input {inputname!r}: needs records with an "
                             f"'epoch' (n_samples, n_channels) field (an Epocher's output), got "
                             f"dtype {params['dtype']!r}")

    # -- the reader thread keeps the newest epochs and the average -------------
    def on_reader(self, inputname: str, reader) -> None:
        reader.maxlen = self.max_epochs
        reader.on_chunk = self._accumulate

    def _accumulate(self, index: int, data: np.ndarray) -> None:
        if self.labels is not None:
            data = data[np.isin(data["label"], list(self.labels))]
        if not len(data):
            return
        epochs = data["epoch"].astype(np.float64)
        with self._lock:
            self._sum = epochs.sum(0) if self._sum is None else self._sum + epochs.sum(0)
            self.n_epochs += len(epochs)

    def average(self) -> np.ndarray | None:
        """The running average (n_samples, n_channels), or None before the first epoch."""
        with self._lock:
            return None if self._sum is None else self._sum / self.n_epochs

    def reset(self) -> None:
        """Forget the average and the drawn epochs."""
        with self._lock:
            self._sum, self.n_epochs = None, 0
        self._recent.clear()
        self._redraw()

    # -- drawing -------------------------------------------------------------
    def make_widget(self) -> QtWidgets.QWidget:
        params = self.inputs["epochs"].params
        fields: Mapping[str, Any] = make_dtype(params["dtype"]).fields or {}
        shape = fields["epoch"][0].shape              # (checked at connect)
        self.n_samples, nchan = shape
        sr = float(params.get("sample_rate", 1.0))
        pre = float(params.get("pre", 0.0))
        self.times = (np.arange(self.n_samples) - int(round(pre * sr))) / sr
        chans = self.channels if self.channels is not None else list(range(min(nchan, 16)))
        bad = [c for c in chans if not 0 <= c < nchan]
        if bad:
            raise ValueError(f"{self.name}: channels {bad} are not within the epochs' {nchan} channels")
        self.shown = chans
        names = channel_names(params, nchan)
        columns = self.columns or (1 if len(chans) <= 4 else 2)
        widget = pg.GraphicsLayoutWidget()
        widget.setBackground("k")
        self.plots: list[Any] = []
        self.epoch_curves: list[Any] = []
        self.mean_curves: list[Any] = []
        self._recent: collections.deque = collections.deque(maxlen=self.max_epochs)
        for j, c in enumerate(chans):
            plot = widget.addPlot(row=j // columns, col=j % columns)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setLabel("left", names[c])
            plot.addLine(x=0, pen=pg.mkPen("#808080", style=pg.QtCore.Qt.DashLine))
            if self.plots:
                plot.setXLink(self.plots[0])
            if j >= len(chans) - columns:
                plot.setLabel("bottom", "time from trigger", units="s")
            else:
                plot.getAxis("bottom").setStyle(showValues=False)
            color = pg.mkColor(PALETTE[(c + 1) % len(PALETTE)])
            color.setAlpha(110)
            curves = [plot.plot(pen=pg.mkPen(color, width=1)) for _ in range(self.max_epochs)]
            mean = plot.plot(pen=pg.mkPen("#ffffff", width=3))
            self.plots.append(plot)
            self.epoch_curves.append(curves)
            self.mean_curves.append(mean)
        return widget

    def mean_color(self) -> tuple[int, int, int]:
        """RGB of the average trace."""
        return (255, 255, 255)

    def refresh(self) -> bool:
        reader = self.readers["epochs"]
        items = reader.take()
        if not items:
            return False
        new: list[Any] = []
        for _, data, _ in items:
            if self.labels is not None:
                data = data[np.isin(data["label"], list(self.labels))]
            new.extend(np.asarray(data["epoch"]))
        drawn = new[-self.max_epochs:]
        self.skipped += len(new) - len(drawn) + reader.overflow - getattr(self, "_overflow_seen", 0)
        self._overflow_seen = reader.overflow
        self._recent.extend(drawn)
        self.drawn_chunks += len(items)
        self._redraw()
        return True

    def _redraw(self) -> None:
        mean = self.average()
        recent = list(self._recent)
        for j, c in enumerate(self.shown):
            for i, curve in enumerate(self.epoch_curves[j]):
                if i < len(recent):
                    curve.setData(self.times, recent[i][:, c])
                else:
                    curve.setData([], [])
            if mean is not None:
                self.mean_curves[j].setData(self.times, mean[:, c])
            else:
                self.mean_curves[j].setData([], [])
