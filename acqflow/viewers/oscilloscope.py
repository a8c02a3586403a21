"""Oscilloscope: a live multi-channel signal viewer (scroll or scan) with min/max decimation."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtWidgets

from ..dataflow.errors import OverrunError
from ..dataflow import paramcheck as check
from .base import ViewerNode, channel_names
from .envelope import MinMaxEnvelope, bucket_size
from .oscparams import DECIMATION_METHODS, MODES, build_params, decimated_traces, sync_channels

__all__ = ["Oscilloscope", "PALETTE", "MODES"]

# Bright, distinct trace colours on a dark background (cycled over channels).
PALETTE = ["#ffff00", "#00ffff", "#ff00ff", "#00ff00", "#ff8000", "#8080ff", "#ff4040", "#ffffff"]


class Oscilloscope(ViewerNode):
    """Live traces of an analogsignal input ``signals`` (time, channels).

    Parameters: ``xsize`` (s shown, 3), ``mode`` ('scroll': newest at the right
    edge; 'scan': a cursor sweeps and overwrites), ``auto_scale`` (stack the
    visible channels and fit each one's range once data arrives, True),
    ``scale_mode`` ('by_channel' or 'same_for_all'), ``gains``/``offsets``
    (displayed value = sample * gain + offset; given ones turn auto-scale off),
    ``visible`` (list of bools), ``max_points`` (buckets across the window;
    default: the plot's width in pixels), ``colors``, ``show_panel`` (the small
    control bar, True), plus the common ``refresh_rate``, ``show``, ``title``, ``size``.

    ``decimation_method``: 'min_max' (default: each bucket of samples is drawn as a
    segment from its min to its max, so spikes stay visible whatever the decimation),
    'pure_decimate' (every k-th sample) or 'mean' (of each bucket); ``decimate``: k
    (default: chosen from the plot's width).  After initialize(), ``params`` and
    ``by_channel_params`` are pyqtgraph Parameter trees (pyacq's names, see oscparams)
    whose changes take effect at once.  Channel names come from the
    stream's ``channel_info``.  ``skipped`` counts samples never drawn.
    """

    _input_specs: dict[str, dict] = {"signals": {"streamtype": ("analogsignal",), "ndim": 2}}
    line_mode = "on"      # pyqtgraph draws segments (QPainter.drawLines) rather than one path

    def _configure_viewer(self, xsize: float = 3.0, mode: str = "scroll", auto_scale: bool = True,
                          scale_mode: str = "by_channel", gains: Sequence[float] | None = None,
                          offsets: Sequence[float] | None = None, visible: Sequence[bool] | None = None,
                          max_points: int | None = None, colors: Sequence[Any] | None = None,
                          show_panel: bool = True, background: Any = "k",
                          decimation_method: str = "min_max", decimate: int | None = None) -> None:
        check.positive_number(f"{self.name}: xsize", xsize, " s")
        check.one_of(*MODES)(f"{self.name}: mode", mode)
        check.one_of("by_channel", "same_for_all")(f"{self.name}: scale_mode", scale_mode)
        check.one_of(*DECIMATION_METHODS)(f"{self.name}: decimation_method", decimation_method)
        if decimate is not None:
            check.int_in(f"{self.name}: decimate", decimate)
        self.decimation_method = decimation_method
        self.decimate = None if decimate is None else int(decimate)
        self._ylim: tuple[float, float] | None = None
        if max_points is not None:
            check.int_in(f"{self.name}: max_points", max_points, 2)
        self.xsize, self.mode, self.scale_mode = float(xsize), mode, scale_mode
        self.auto_scale_on = bool(auto_scale) and gains is None and offsets is None
        self._init_gains, self._init_offsets, self._init_visible = gains, offsets, visible
        self.max_points = None if max_points is None else int(max_points)
        self._colors, self.show_panel, self.background = colors, bool(show_panel), background

    # -- what is drawn (the digital viewer overrides these) --------------------
    @property
    def stream_params(self) -> dict:
        """Params of the connected ``signals`` stream."""
        return self.inputs["signals"].params

    def n_lanes(self) -> int:
        """Number of traces."""
        return int(self.stream_params["shape"][1])

    def lane_names(self) -> list[str]:
        """A label per trace: the channel names of the stream, or ch0, ch1..."""
        return channel_names(self.stream_params, self.n_lanes())

    def transform(self, data: np.ndarray) -> np.ndarray:
        """Samples (time, channels) to traces (time, lanes)."""
        return data

    # -- set-up ----------------------------------------------------------------
    @property
    def sample_rate(self) -> float:
        """The input's sample rate (Hz)."""
        return float(self.stream_params["sample_rate"])

    def window_samples(self) -> int:
        """Samples shown across the window (``xsize`` s; at most 3/4 of a shared ring)."""
        n = max(2, int(round(self.xsize * self.sample_rate)))
        if self.inputs["signals"].params.get("transfermode") == "sharedmem":
            n = min(n, int(self.stream_params["buffer_size"]) * 3 // 4)
        return n

    def ring_size(self, inputname: str) -> int:
        return 2 * self.window_samples() + int(0.5 * self.sample_rate) + 16

    def make_widget(self) -> QtWidgets.QWidget:
        n = self.n_lanes()
        self.names = self.lane_names()
        self.gains = np.ones(n) if self._init_gains is None else \
            np.broadcast_to(np.asarray(self._init_gains, float), (n,)).copy()
        self.offsets = (n - 1 - np.arange(n, dtype=float)) if self._init_offsets is None else \
            np.broadcast_to(np.asarray(self._init_offsets, float), (n,)).copy()
        self.visible = np.ones(n, bool) if self._init_visible is None else \
            np.broadcast_to(np.asarray(self._init_visible, bool), (n,)).copy()
        self.colors = [pg.mkColor(c) for c in (self._colors or [PALETTE[i % len(PALETTE)] for i in range(n)])]
        self._scaled = not self.auto_scale_on
        self.env: MinMaxEnvelope | None = None
        self._fed_from: int | None = None
        self._autoscales = 0
        self._centres: np.ndarray | None = None
        widget = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        if self.show_panel:
            from .controls import ControlBar
            self.controls = ControlBar(self)
            layout.addWidget(self.controls)
        self.plot = pg.PlotWidget(background=self.background)
        layout.addWidget(self.plot)
        item = self.plot.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)
        self.viewbox = item.getViewBox()
        self.viewbox.disableAutoRange()
        self.viewbox.setMouseEnabled(x=False, y=True)
        item.setLabel("bottom", "time", units="s")
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#808080"))
        item.addItem(self.cursor)
        self.curves = []
        for i in range(n):
            curve = pg.PlotCurveItem(pen=pg.mkPen(self.colors[i], width=1), skipFiniteCheck=True)
            curve.setSegmentedLineMode(self.line_mode)
            item.addItem(curve)
            self.curves.append(curve)
        self._apply_layout()
        self.params, self.by_channel_params = build_params(self)
        if self.decimate is not None:              # show the configured choice
            self.params.blockSignals(True)
            self.params["auto_decimate"] = False
            self.params["decimate"] = self.decimate
            self.params.blockSignals(False)
        return widget

    def channel_color(self, channel: int) -> tuple[int, int, int]:
        """RGB of a channel's trace."""
        return self.colors[channel].getRgb()[:3]

    def _plot_pixels(self) -> int:
        if self.max_points is not None:
            return self.max_points
        return max(200, int(self.viewbox.width()) or 800)

    def _apply_layout(self) -> None:
        """Axis ranges, channel labels and curve visibility for the current settings."""
        vis = np.flatnonzero(self.visible)
        item = self.plot.getPlotItem()
        item.getAxis("left").setTicks([[(float(self._centre(c)), self.names[c]) for c in vis], []])
        for c, curve in enumerate(self.curves):
            curve.setVisible(bool(self.visible[c]))
        window = self.window_samples() / self.sample_rate
        xr = (-window, 0.0) if self.mode == "scroll" else (0.0, window)
        self.cursor.setVisible(self.mode == "scan")
        if self._ylim is not None:
            lo, hi = self._ylim
        elif len(vis):
            lo = min(self._centre(c) for c in vis) - 0.5
            hi = max(self._centre(c) for c in vis) + 0.5
        else:
            lo, hi = -0.5, 0.5
        self.viewbox.setRange(xRange=xr, yRange=(lo, hi), padding=0)

    def _centre(self, c: int | np.integer) -> float:
        return float(self._centres[c]) if self._centres is not None else float(self.offsets[c])

    # -- runtime settings --------------------------------------------------------
    def set_xsize(self, seconds: float) -> None:
        """Change the time window (s)."""
        check.positive_number("xsize", seconds, " s")
        old_ring = self.ring_size("signals")
        self.xsize = float(seconds)
        if self.state == "running" and self.ring_size("signals") > old_ring and \
                self.inputs["signals"].params.get("transfermode") != "sharedmem":
            self._stop()                  # a bigger local ring: readers restart with it
            self._start()
        self.env = None
        self._apply_layout()

    def set_mode(self, mode: str) -> None:
        """'scroll' or 'scan'."""
        check.one_of(*MODES)("mode", mode)
        self.mode = mode
        self._apply_layout()
        self._redraw()

    def set_ylim(self, lo: float, hi: float) -> None:
        """Fix the vertical range shown (in displayed units: sample * gain + offset)."""
        check.less_than("ylim_min", check.finite_number("ylim_min", lo), "ylim_max",
                        check.finite_number("ylim_max", hi))
        self._ylim = (float(lo), float(hi))
        self._apply_layout()

    def set_scale_mode(self, mode: str) -> None:
        """'by_channel' / 'same_for_all': stack and fit the channels (auto-scale);
        'real_scale': the raw values (gain 1, offset 0) in ``ylim``."""
        if mode == "real_scale":
            self.auto_scale_on = False
            self.gains[:] = 1.0
            self.offsets[:] = 0.0
            self._centres = None
            lows, highs = self.env.range() if self.env is not None else (np.zeros(1), np.ones(1))
            vis = np.flatnonzero(self.visible)
            lows, highs = np.nan_to_num(lows, nan=0.0), np.nan_to_num(highs, nan=1.0)
            lo, hi = (float(lows[vis].min()), float(highs[vis].max())) if len(vis) and len(lows) == len(self.gains) \
                else (-1.0, 1.0)
            if hi <= lo:
                lo, hi = lo - 1.0, hi + 1.0
            self._ylim = (lo, hi)
            if self.params is not None:
                self.params.blockSignals(True)
                self.params["ylim_min"], self.params["ylim_max"] = lo, hi
                self.params.blockSignals(False)
            sync_channels(self)
            self._apply_layout()
            self._redraw()
            return
        check.one_of("by_channel", "same_for_all", "real_scale")("scale_mode", mode)
        self.scale_mode, self._ylim, self.auto_scale_on = mode, None, True
        self.auto_scale()

    def set_channel(self, channel: int, visible: bool | None = None, gain: float | None = None,
                    offset: float | None = None) -> None:
        """Show/hide one channel or set its gain/offset (turns auto-scale off)."""
        if visible is not None:
            self.visible[channel] = bool(visible)
        if gain is not None or offset is not None:
            self.auto_scale_on = False
            if gain is not None:
                self.gains[channel] = float(gain)
            if offset is not None:
                self.offsets[channel] = float(offset)
                self._centres = None
        if visible is not None and self.auto_scale_on and self._scaled:
            self.auto_scale()
        sync_channels(self)
        self._apply_layout()
        self._redraw()

    def scale_gains(self, factor: float) -> None:
        """Multiply every gain by ``factor`` around each channel's centre."""
        centres = np.array([self._centre(c) for c in range(len(self.gains))])
        self.offsets = centres + (self.offsets - centres) * factor
        self.gains = self.gains * factor
        self._centres = centres
        self._redraw()

    def auto_scale(self) -> None:
        """Stack the visible channels top-down and fit each one's range in its lane."""
        vis = np.flatnonzero(self.visible)
        lo: np.ndarray | None = None
        hi: np.ndarray | None = None
        if self.env is not None:
            with np.errstate(all="ignore"):
                import warnings
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    lo = np.nanpercentile(self.env.mins, 1, axis=0)
                    hi = np.nanpercentile(self.env.maxs, 99, axis=0)
        n = len(self.gains)
        lo = np.zeros(n) if lo is None else np.nan_to_num(lo, nan=0.0)
        hi = np.ones(n) if hi is None else np.nan_to_num(hi, nan=1.0)
        span = hi - lo
        span[span <= 0] = 1.0
        if self.scale_mode == "same_for_all" and len(vis):
            span[:] = span[vis].max()
        centres = np.zeros(n)
        centres[vis] = len(vis) - 1 - np.arange(len(vis))
        self.gains = 0.9 / span
        self.offsets = centres - (hi + lo) / 2 * self.gains
        self._centres = centres
        self._scaled = True
        sync_channels(self)
        self._apply_layout()
        self._redraw()

    # -- drawing -------------------------------------------------------------
    def _new_envelope(self, head: int) -> None:
        window = self.window_samples()
        k = self.decimate or bucket_size(window, self._plot_pixels())
        if self.decimate is None and self.params is not None:
            self.params.blockSignals(True)
            self.params["decimate"] = k
            self.params.blockSignals(False)
        self.env = MinMaxEnvelope(self.n_lanes(), k, math.ceil(window / k))
        self._env_pixels = self._plot_pixels()
        self._apply_layout()

    def refresh(self) -> bool:
        reader = self.readers["signals"]
        chunks, head = reader.snapshot()
        if head is None:
            return False
        if self.env is None or abs(self._plot_pixels() - self._env_pixels) > 0.2 * self._env_pixels:
            self.env = None
            self._new_envelope(head)
        env = self.env
        assert env is not None                  # (_new_envelope made it)
        if env.next == head:
            return False
        ring = reader.ring
        for _ in range(3):                      # the writer may overtake us: retry newer
            start = max(head - env.window, ring.first_index())
            if env.next is not None:
                if start > env.next and self.frames:
                    self.skipped += start - env.next
                start = max(start, env.next)
            try:
                data = ring[start:head]
                env.feed(self.transform(data), start)
                break
            except (IndexError, OverrunError):
                chunks, new_head = reader.snapshot()
                head = new_head if new_head is not None else head
        else:
            return False
        self.drawn_chunks = chunks
        if self._fed_from is None:
            self._fed_from = start
        assert env.next is not None             # (fed)
        seen = env.next - self._fed_from
        due = (env.window // 4, env.window)
        if self.auto_scale_on and self._autoscales < 2 and seen >= due[self._autoscales]:
            self._autoscales += 1          # once early (something to see), once on a full window
            self.auto_scale()
        self._redraw()
        return True

    def _redraw(self) -> None:
        env = self.env
        if env is None or env.next is None:
            return
        k, nb, sr = env.k, env.nbuckets, self.sample_rate
        if self.mode == "scroll":
            order = env.scroll_order()
            first = env.last_bucket() - nb + 1
            xb = ((np.arange(first, first + nb) + 0.5) * k - env.next) / sr
            mins, maxs = env.mins[order], env.maxs[order]
        else:
            xb = (np.arange(nb) + 0.5) * k / sr
            mins, maxs = env.mins.copy(), env.maxs.copy()
            gap = (env.last_bucket() + 1) % nb          # break the trace at the cursor
            mins[gap] = maxs[gap] = np.nan
            self.cursor.setValue((env.next % env.window) / sr)
        vis = np.flatnonzero(self.visible)
        alt = decimated_traces(self) if self.decimation_method != "min_max" and k > 1 else None
        if alt is not None:
            x, y = alt[0], alt[1][:, vis]
        elif k == 1:
            x, y = xb, mins[:, vis]
        else:
            x = np.repeat(xb, 2)
            y = np.empty((2 * nb, len(vis)), np.float32)
            y[0::2], y[1::2] = mins[:, vis], maxs[:, vis]
        y = y * self.gains[vis].astype(np.float32) + self.offsets[vis].astype(np.float32)
        finite = not np.isnan(y).any()
        for j, c in enumerate(vis):
            if finite:
                self.curves[c].setData(x, y[:, j], connect="all", skipFiniteCheck=True)
            else:
                self.curves[c].setData(x, y[:, j], connect="finite", skipFiniteCheck=False)
