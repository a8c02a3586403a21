"""TimeFrequencyViewer: a live spectrogram image per channel, with colormap and frequency axis."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from ..dataflow.errors import OverrunError
from ..dataflow import paramcheck as check
from .base import ViewerNode, channel_names

__all__ = ["TimeFrequencyViewer"]


class TimeFrequencyViewer(ViewerNode):
    """Scrolling time-frequency images of input ``signals`` (the TimeFrequency node's output).

    The input is analogsignal (time, n_channels * n_freqs), channel-major, with
    params ``freqs`` (Hz) and ``tf_channels``; a stream without ``freqs`` is shown
    as one image whose rows are its columns (``freqs = 0, 1, ...``).
    Parameters: ``xsize`` (s shown, 5), ``colormap`` (a pyqtgraph/matplotlib
    name, 'viridis'), ``levels`` ((lo, hi) or None: fitted on the visible data
    at each frame, 1st-99.5th percentile), ``channels`` (which image rows to show,
    default all), ``show_colorbar`` (True), ``columns`` (images per row, 1).
    After initialize(), ``params`` is a pyqtgraph Parameter tree (pyacq's names:
    ``xsize``, ``nb_column``, ``colormap``, ``background_color``, ``refresh_interval``
    (ms), ``show_axis``) whose changes take effect at once.
    """

    _input_specs: dict[str, dict] = {"signals": {"streamtype": "analogsignal", "ndim": 2}}

    def _configure_viewer(self, xsize: float = 5.0, colormap: str = "viridis",
                          levels: Sequence[float] | None = None, channels: Sequence[int] | None = None,
                          show_colorbar: bool = True, columns: int = 1) -> None:
        check.positive_number(f"{self.name}: xsize", xsize, " s")
        self.cmap = pg.colormap.get(colormap) if isinstance(colormap, str) else colormap
        self.xsize, self.levels = float(xsize), None if levels is None else tuple(map(float, levels))
        self.channels, self.show_colorbar = channels, bool(show_colorbar)
        check.int_in(f"{self.name}: columns", columns)
        self.columns, self.colormap_name = columns, colormap if isinstance(colormap, str) else None

    def check_params(self, inputname: str, params: dict) -> None:
        shape = params["shape"]                        # 2-D: checked by _input_specs
        freqs = params.get("freqs")
        if freqs is not None and shape[1] % len(freqs):
            raise ValueError(f"node {self.name!r} input {inputname!r}: {shape[1]} columns are not a "
                             f"multiple of {len(freqs)} frequencies")

    @property
    def stream_params(self) -> dict:
        """Params of the connected ``signals`` stream."""
        return self.reader_input("signals").params

    def window_samples(self) -> int:
        """Input samples shown across the window (``xsize`` s)."""
        return max(2, int(round(self.xsize * float(self.stream_params["sample_rate"]))))

    def ring_size(self, inputname: str) -> int:
        return 2 * self.window_samples() + 64

    def make_widget(self) -> QtWidgets.QWidget:
        ncols = int(self.stream_params["shape"][1])
        self.freqs = np.asarray(self.stream_params.get("freqs") or np.arange(ncols), float)
        nrows = ncols // len(self.freqs)
        names = [n.rsplit(" ", 1)[0] for n in channel_names(self.stream_params, ncols)[::len(self.freqs)]]
        tf = self.stream_params.get("tf_channels")
        if tf is not None and names == [f"ch{i * len(self.freqs)}" for i in range(nrows)]:
            names = [f"ch{c}" for c in tf]
        self.rows = list(range(nrows)) if self.channels is None else [int(c) for c in self.channels]
        self._names = names
        widget = pg.GraphicsLayoutWidget()
        widget.setBackground("k")
        self._layout_widget = widget
        self._build_plots()
        if self.params is None:
            self.params = self._make_params()
        return widget

    def _build_plots(self) -> None:
        """(Re)build the grid of images: ``columns`` per row."""
        widget, names = self._layout_widget, self._names
        widget.clear()
        f = self.freqs
        df = (f[-1] - f[0]) / (len(f) - 1) if len(f) > 1 else 1.0
        self._frect = (f[0] - df / 2, (f[-1] - f[0]) + df)
        self.plots, self.images, self.bars = [], [], []
        for j, row in enumerate(self.rows):
            plot = widget.addPlot(row=j // self.columns, col=j % self.columns)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
            plot.setLabel("left", names[row] if row < len(names) else f"row{row}", units="Hz")
            if j >= len(self.rows) - self.columns:
                plot.setLabel("bottom", "time", units="s")
            image = pg.ImageItem(axisOrder="col-major")
            image.setColorMap(self.cmap)
            plot.addItem(image)
            plot.setXRange(-self.xsize, 0, padding=0)
            plot.setYRange(self._frect[0], self._frect[0] + self._frect[1], padding=0)
            if self.show_colorbar:
                self.bars.append(plot.addColorBar(image, colorMap=self.cmap, values=self.levels or (0, 1),
                                                  interactive=False, width=12))
            self.plots.append(plot)
            self.images.append(image)
        self._drawn_head: int | None = None

    def _make_params(self):
        from pyqtgraph.parametertree import Parameter
        params = Parameter.create(name="Global options", type="group", children=[
            {"name": "xsize", "type": "float", "value": self.xsize, "step": 0.1, "limits": [0.1, 3600.]},
            {"name": "nb_column", "type": "int", "value": self.columns, "limits": [1, 64]},
            {"name": "background_color", "type": "color", "value": "k"},
            {"name": "colormap", "type": "list", "value": self.colormap_name or "viridis",
             "limits": sorted(set(pg.colormap.listMaps()) | {"viridis"})},
            {"name": "refresh_interval", "type": "int", "value": int(round(1000 / self.refresh_rate)),
             "limits": [5, 5000]},
            {"name": "show_axis", "type": "bool", "value": True}])
        params.sigTreeStateChanged.connect(self._on_param_change)
        return params

    def _on_param_change(self, _tree, changes) -> None:
        for param, change, value in changes:
            if change != "value":
                continue
            name = param.name()
            if name == "xsize":
                self.set_xsize(value)
            elif name == "nb_column":
                self.columns = max(1, int(value))
                self._build_plots()
            elif name == "background_color":
                self._layout_widget.setBackground(value)
            elif name == "colormap":
                self.cmap, self.colormap_name = pg.colormap.get(value), value
                for image in self.images:
                    image.setColorMap(self.cmap)
            elif name == "refresh_interval":
                self.set_refresh_rate(1000.0 / max(1, int(value)))
            elif name == "show_axis":
                for plot in self.plots:
                    plot.showAxis("left", bool(value))
                    plot.showAxis("bottom", bool(value))

    def set_xsize(self, seconds: float) -> None:
        """Change the time window (s), also while running."""
        check.positive_number("xsize", seconds, " s")
        old_ring = self.ring_size("signals")
        self.xsize = float(seconds)
        if self.state == "running" and self.ring_size("signals") > old_ring:
            self._stop()                        # a bigger ring: the reader restarts with it
            self._start()
        for plot in self.plots:
            plot.setXRange(-self.xsize, 0, padding=0)

    def refresh(self) -> bool:
        reader = self.readers["signals"]
        chunks, head = reader.snapshot()
        if head is None or head == self._drawn_head:
            return False
        ring = reader.ring
        n = self.window_samples()
        try:
            start = max(head - n, ring.first_index())
            data = np.asarray(ring[start:head], np.float32)
        except (IndexError, OverrunError):
            return False
        if self._drawn_head is not None and start > self._drawn_head:
            self.skipped += start - self._drawn_head
        self._drawn_head, self.drawn_chunks = head, chunks
        nf = len(self.freqs)
        cube = data.reshape(len(data), -1, nf)
        sr = float(self.stream_params["sample_rate"])
        t0 = -len(data) / sr
        for image, row, plot in zip(self.images, self.rows, self.plots):
            img = cube[:, row, :]
            levels = self.levels
            if levels is None:
                finite = img[np.isfinite(img)]
                lo, hi = (np.percentile(finite, [1, 99.5]) if finite.size else (0.0, 1.0))
                levels = (float(lo), float(hi) if hi > lo else float(lo) + 1.0)
            image.setImage(img, levels=levels, autoLevels=False)
            image.setRect(QtCore.QRectF(t0, self._frect[0], len(data) / sr, self._frect[1]))
            if self.bars:
                self.bars[self.images.index(image)].setLevels(levels)
        return True
