"""ViewerPanel: one window holding several viewers as movable, tabbable docks."""
from __future__ import annotations

from typing import Any

from pyqtgraph.Qt import QtCore, QtWidgets

from ..dataflow.paramcheck import one_of
from .base import get_app

__all__ = ["ViewerPanel"]

_AREAS = {"left": QtCore.Qt.LeftDockWidgetArea, "right": QtCore.Qt.RightDockWidgetArea,
          "top": QtCore.Qt.TopDockWidgetArea, "bottom": QtCore.Qt.BottomDockWidgetArea}


class ViewerPanel(QtWidgets.QMainWindow):
    """A main window into which initialized viewers are docked (``add_viewer``).

    Works in the main process or, through RPC, in a Qt node-group process (pass
    the viewer proxies: they resolve to the local viewers there).  Docks can be
    dragged, floated, stacked as tabs (``tab_with``) or closed by the user.
    """

    def __init__(self, title: str = "acqflow viewers", size: tuple[int, int] = (1000, 700)):
        get_app()
        super().__init__()
        self.setWindowTitle(title)
        self.resize(*size)
        self.setDockNestingEnabled(True)
        self.docks: dict[str, QtWidgets.QDockWidget] = {}
        self.viewers: dict[str, Any] = {}

    def add_viewer(self, viewer: Any, area: str = "right", title: str | None = None,
                   tab_with: str | None = None) -> None:
        """Dock ``viewer`` (a ViewerNode, initialized) in ``area`` ('left', 'right', 'top',
        'bottom'), or as a tab next to the viewer named ``tab_with``."""
        one_of(*_AREAS)("area", area)
        widget = viewer._need_widget()
        name = viewer.name
        if name in self.docks:
            raise ValueError(f"a viewer named {name!r} is already in this panel")
        dock = QtWidgets.QDockWidget(title or name, self)
        dock.setObjectName(name)
        dock.setWidget(widget)          # re-parents it: it is no longer a window of its own
        self.addDockWidget(_AREAS[area], dock)
        if tab_with is not None:
            self.tabifyDockWidget(self.docks[tab_with], dock)
        self.docks[name], self.viewers[name] = dock, viewer
        widget.show()

    def remove_viewer(self, name: str) -> None:
        """Take a viewer out; its widget becomes a window of its own again (hidden)."""
        dock = self.docks.pop(name)
        viewer = self.viewers.pop(name)
        widget = dock.widget()
        widget.setParent(None)
        self.removeDockWidget(dock)
        dock.deleteLater()
        if viewer.widget is widget:
            widget.hide()

    def names(self) -> list[str]:
        """Names of the docked viewers."""
        return list(self.docks)
