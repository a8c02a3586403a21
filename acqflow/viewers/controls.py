"""The small parameter panel of the oscilloscopes: pause, auto-scale, mode, window, gains, channels."""
from __future__ import annotations

from typing import Any

from pyqtgraph.Qt import QtWidgets
from pyqtgraph.parametertree import Parameter, ParameterTree

from .oscparams import MODES

__all__ = ["ControlBar", "ChannelDialog"]


class ControlBar(QtWidgets.QWidget):
    """One row of controls bound to an Oscilloscope (or DigitalOscilloscope)."""

    def __init__(self, viewer: Any):
        super().__init__()
        self.viewer = viewer
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        self.pause_button = QtWidgets.QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(viewer.pause)
        row.addWidget(self.pause_button)
        self.mode = QtWidgets.QComboBox()
        self.mode.addItems(list(MODES))
        self.mode.setCurrentText(viewer.mode)
        self.mode.currentTextChanged.connect(viewer.set_mode)
        row.addWidget(self.mode)
        row.addWidget(QtWidgets.QLabel("window (s)"))
        self.xsize = QtWidgets.QDoubleSpinBox()
        self.xsize.setRange(0.01, 600.0)
        self.xsize.setDecimals(2)
        self.xsize.setValue(viewer.xsize)
        self.xsize.editingFinished.connect(lambda: viewer.set_xsize(self.xsize.value()))
        row.addWidget(self.xsize)
        if hasattr(viewer, "auto_scale") and getattr(viewer, "scalable", True):
            for text, slot in (("Auto-scale", viewer.auto_scale),
                               ("gain x2", lambda: viewer.scale_gains(2.0)),
                               ("gain /2", lambda: viewer.scale_gains(0.5))):
                button = QtWidgets.QPushButton(text)
                button.clicked.connect(slot)
                row.addWidget(button)
        self.channels_button = QtWidgets.QPushButton("Channels...")
        self.channels_button.clicked.connect(self.open_channels)
        row.addWidget(self.channels_button)
        row.addStretch(1)
        self.dialog: ChannelDialog | None = None

    def open_channels(self) -> None:
        """Open (built on first use) the per-channel visibility/gain/offset panel."""
        if self.dialog is None:
            self.dialog = ChannelDialog(self.viewer, parent=self)
        self.dialog.sync()
        self.dialog.show()


class ChannelDialog(QtWidgets.QDialog):
    """Per-channel visible / gain / offset, as a pyqtgraph ParameterTree."""

    def __init__(self, viewer: Any, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.viewer = viewer
        self.setWindowTitle(f"{viewer.name}: channels")
        children = [{"name": name, "type": "group", "children": [
            {"name": "visible", "type": "bool", "value": bool(viewer.visible[i])},
            {"name": "gain", "type": "float", "value": float(viewer.gains[i]), "step": 0.1},
            {"name": "offset", "type": "float", "value": float(viewer.offsets[i]), "step": 0.1},
        ]} for i, name in enumerate(viewer.names)]
        self.params = Parameter.create(name="channels", type="group", children=children)
        self.params.sigTreeStateChanged.connect(self._changed)
        tree = ParameterTree(showHeader=False)
        tree.setParameters(self.params, showTop=False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(tree)
        self.resize(320, 480)
        self._syncing = False

    def sync(self) -> None:
        """Show the viewer's current values."""
        self._syncing = True
        try:
            for i, group in enumerate(self.params.children()):
                group.child("visible").setValue(bool(self.viewer.visible[i]))
                group.child("gain").setValue(float(self.viewer.gains[i]))
                group.child("offset").setValue(float(self.viewer.offsets[i]))
        finally:
            self._syncing = False

    def _changed(self, _param: Parameter, changes: list) -> None:
        if self._syncing:
            return
        names = [g.name() for g in self.params.children()]
        for param, change, value in changes:
            if change != "value":
                continue
            channel = names.index(param.parent().name())
            self.viewer.set_channel(channel, **{param.name(): value})
