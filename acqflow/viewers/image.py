"""ImageViewer: the newest frame of one or several video streams, in a grid, with their rates."""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtWidgets

from ..dataflow.errors import OverrunError
from ..dataflow import paramcheck as check
from ..dataflow.inputstream import InputStream
from .base import ViewerNode

__all__ = ["ImageViewer"]

_SPEC = {"streamtype": "video"}


class ImageViewer(ViewerNode):
    """Shows the newest frame of input ``video`` (and ``video1``, ``video2``... with ``n_inputs``).

    Frames are uint8 (h, w) gray or (h, w, 3) colour; a stream whose params say
    ``pixel_format='bgr'`` (OpenCV's, the Camera default) is shown in true colours.
    Parameters: ``n_inputs`` (cameras, 1), ``columns`` (grid width, default
    ceil(sqrt(n_inputs))), ``show_fps`` (a caption with the displayed and the
    stream frame rates and the skipped frames, True), ``levels`` ((lo, hi) or None).
    Frames received but replaced by a newer one before a refresh count in ``skipped``.
    """

    _default_size = (640, 480)
    _dynamic_ports = True          # video1, video2... exist once configured with n_inputs

    def _configure_viewer(self, n_inputs: int = 1, columns: int | None = None, show_fps: bool = True,
                          levels: tuple[float, float] | None = (0, 255)) -> None:
        check.int_in(f"{self.name}: n_inputs", n_inputs)
        for k in [k for k in self.inputs if k != "video"]:
            if self.inputs[k].connected:
                raise ValueError(f"{self.name}: configure n_inputs before connecting inputs")
            del self.inputs[k]
        for i in range(1, n_inputs):
            self.inputs[f"video{i}"] = InputStream(spec=dict(_SPEC), node=self, name=f"video{i}")
        self.n_inputs, self.show_fps, self.levels = n_inputs, bool(show_fps), levels
        self.columns = int(columns) if columns else math.ceil(math.sqrt(n_inputs))

    _input_specs = {"video": _SPEC}

    def check_params(self, inputname: str, params: dict) -> None:
        shape = params.get("shape")
        if shape is None or len(shape) not in (3, 4) or (len(shape) == 4 and shape[3] not in (3, 4)):
            raise ValueError(f"node {self.name!r} input {inputname!r}: needs video frames of a fixed "
                             f"shape (-1, h, w) or (-1, h, w, 3), got {shape!r}")

    def ring_size(self, inputname: str) -> int:
        return 4

    def make_widget(self) -> QtWidgets.QWidget:
        widget = pg.GraphicsLayoutWidget()
        widget.setBackground("k")
        self.views, self.images, self.captions = {}, {}, {}
        self._last_head: dict[str, int | None] = {}
        self._times: dict[str, list] = {}
        self._shown: dict[str, int] = {}
        self._skipped: dict[str, int] = {}
        for j, name in enumerate(self.inputs):
            row, col = divmod(j, self.columns)
            cell = widget.addLayout(row=row, col=col)
            caption = cell.addLabel(name, row=0, col=0, color="#c0c0c0", size="9pt")
            view = cell.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMouse=False)
            image = pg.ImageItem(axisOrder="row-major")
            view.addItem(image)
            h, w = self.inputs[name].params["shape"][1:3]
            view.setRange(xRange=(0, w), yRange=(0, h), padding=0)
            self.views[name], self.images[name], self.captions[name] = view, image, caption
            self._last_head[name] = None
            self._times[name] = []
            self._shown[name] = self._skipped[name] = 0
        return widget

    def _frame(self, name: str, data: np.ndarray) -> np.ndarray:
        if data.ndim == 3 and data.shape[2] >= 3 and \
                self.inputs[name].params.get("pixel_format", "rgb") == "bgr":
            return data[:, :, 2::-1]
        return data

    def refresh(self) -> bool:
        drew = False
        now = time.monotonic()
        for name, reader in self.readers.items():
            chunks, received, head = reader.counts()
            last = self._last_head[name]
            if head is None or head == last:
                continue
            try:
                frame = np.array(reader.ring[head - 1:head][0])    # copy: the ring moves on
            except (IndexError, OverrunError):
                continue
            self._last_head[name] = head
            self._show(name, frame, head, now, skipped=received - self._shown[name] - 1)
            drew = True
        return drew

    def _show(self, name: str, frame: np.ndarray, index: int, now: float, skipped: int) -> None:
        """Draw ``frame`` (sample ``index``) on input ``name``'s image; count it and the
        ``skipped`` frames so far, and update its frame-rate caption."""
        self._shown[name] += 1
        self._skipped[name] = skipped
        self.skipped = sum(self._skipped.values())
        self.images[name].setImage(self._frame(name, frame), autoLevels=self.levels is None,
                                   levels=self.levels)
        times = self._times[name]
        times.append((now, index))
        while len(times) > 2 and now - times[0][0] > 2.0:
            times.pop(0)
        if self.show_fps:
            self.captions[name].setText(self._caption(name, times))
        self.drawn_chunks += 1

    def _caption(self, name: str, times: list) -> str:
        text = name
        if len(times) >= 2 and times[-1][0] > times[0][0]:
            dt = times[-1][0] - times[0][0]
            shown = (len(times) - 1) / dt
            stream = (times[-1][1] - times[0][1]) / dt
            text += f"   {shown:.1f} fps shown, {stream:.1f} fps received"
        return text + f", {self._skipped[name]} skipped"

    def frame_rates(self) -> dict[str, float]:
        """Displayed frames per second per input, over the last 2 s."""
        out = {}
        for name, times in self._times.items():
            dt = times[-1][0] - times[0][0] if len(times) >= 2 else 0
            out[name] = (len(times) - 1) / dt if dt > 0 else 0.0
        return out
