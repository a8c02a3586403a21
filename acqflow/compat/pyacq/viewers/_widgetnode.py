"""What pyacq's viewers share: pyacq's configure arguments, the user dialog, the widget's methods."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.states import PyacqStates

if TYPE_CHECKING:                 # a mixin, always taken first by a ViewerNode class
    from ....viewers.base import ViewerNode as _MixedInto
else:
    _MixedInto = object

__all__ = ["PyacqViewer"]


class PyacqViewer(PyacqStates, _MixedInto):
    """Mixin for an acqflow ViewerNode: ``configure(with_user_dialog=True, ...)``, no window shown
    until ``show()`` (pyacq's viewers are widgets), ``params_controller`` (a window with the
    ``params`` trees, opened by ``show_params_controller()``), and the widget's own methods
    (``resize``, ``setWindowTitle``, ...) on the node as on pyacq's WidgetNode."""

    def __init__(self, name: str | None = None, **kwargs: Any):
        super().__init__(name=name)
        self.with_user_dialog = True
        self.params_controller = None

    def _configure(self, with_user_dialog: bool = True, show: bool = False, **kwargs: Any) -> None:  # type: ignore[override]  # pyacq's arguments
        self.with_user_dialog = bool(with_user_dialog)
        super()._configure(show=show, **kwargs)

    def _initialize(self) -> None:
        super()._initialize()
        if self.with_user_dialog and self.params is not None:
            self.params_controller = make_controller(self)

    def show_params_controller(self) -> None:
        """Open the parameter window (pyacq opens it on a double click)."""
        if self.params_controller is not None:
            self.params_controller.show()

    def _close(self) -> None:
        if self.params_controller is not None:
            self.params_controller.close()
            self.params_controller = None
        super()._close()

    def __getattr__(self, name: str):
        widget = self.__dict__.get("widget")
        if widget is None or name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(widget, name)


def make_controller(viewer: Any):
    """A window with the viewer's ``params`` (and ``by_channel_params``) as ParameterTrees."""
    from pyqtgraph.parametertree import ParameterTree
    from pyqtgraph.Qt import QtCore, QtWidgets
    win = QtWidgets.QWidget()
    win.setWindowTitle(f"Options for {viewer.name}")
    win.setWindowFlags(QtCore.Qt.Window)
    row = QtWidgets.QHBoxLayout(win)
    for tree_params in (viewer.params, getattr(viewer, "by_channel_params", None)):
        if tree_params is None:
            continue
        tree = ParameterTree()
        tree.setParameters(tree_params, showTop=True)
        tree.header().hide()
        row.addWidget(tree)
    win.tree_count = row.count()
    return win
