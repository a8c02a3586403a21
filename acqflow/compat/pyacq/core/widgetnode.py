"""pyacq's ``WidgetNode``: a Node that is a QWidget (Qt comes through acqflow.viewers)."""
from __future__ import annotations

from ....viewers.base import QtWidgets
from .node import Node, _MyTest
from .nodelist import register_node_type

__all__ = ["WidgetNode"]


class WidgetNode(QtWidgets.QWidget, Node):
    """Base class of nodes with a Qt user interface (create them in the GUI thread)."""

    def __init__(self, parent=None, **kargs):
        QtWidgets.QWidget.__init__(self, parent=parent)
        Node.__init__(self, **kargs)

    def close(self) -> None:
        Node.close(self)
        QtWidgets.QWidget.close(self)

    def closeEvent(self, event) -> None:
        if self.running():
            self.stop()
        if not self.closed():
            Node.close(self)
        event.accept()


class _MyTestNodeQWidget(_MyTest, WidgetNode):
    pass


register_node_type(_MyTestNodeQWidget)
