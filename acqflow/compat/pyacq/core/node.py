"""pyacq's ``Node`` life-cycle on acqflow's Node.

pyacq lets ``configure()`` be called in any state but running (also after
``initialize()``, and ``initialize()`` before ``configure()``), and ``start()`` asks for
both; acqflow's Node runs it with pyacq's transition table (``_transitions``), so ``state``
says where the node is for node groups and the monitor.  ``configured()`` is a flag of its
own (a node may be initialized and not configured).  Its streams are
``pyacq.core.stream``'s (acqflow's, taking pyacq's configure arguments).

``WidgetNode`` (a Node that is a QWidget) and pyacq's test type ``_MyTestNodeQWidget`` live
here too, as in pyacq, but are defined when first asked for, so that Qt stays optional.
"""
from __future__ import annotations

import threading

from ....dataflow.node import Node as _Node
from ....dataflow.node import NodeStateError
from ....dataflow.registry import register_node_type
from .states import PyacqStates
from .stream import InputStream, OutputStream

__all__ = ["Node", "NodeStateError", "WidgetNode"]

_NOT_RUNNING = ("new", "configured", "initialized", "stopped", "error")


class Node(PyacqStates, _Node):
    """A Node with pyacq's life-cycle rules (see the module docstring)."""

    # acqflow's life-cycle with pyacq's rules: configure() and initialize() in any state but
    # running (configure() keeps the state), start() once initialized (and configured)
    _transitions = {**_Node._transitions,
                    "configure": (_NOT_RUNNING, None, "the node is running"),
                    "initialize": (_NOT_RUNNING, "initialized", "the node is running"),
                    "start": (("initialized", "stopped"), "running",
                              "the node is not initialized or already running")}

    def __init__(self, name: str = "", parent=None):
        super().__init__(name or None)
        # pyacq's streams: their configure() takes pyacq's arguments
        self.inputs = {k: InputStream(spec=dict(v), node=self, name=k)
                       for k, v in self._input_specs.items()}
        self.outputs = {k: OutputStream(spec=dict(v), node=self, name=k)
                        for k, v in self._output_specs.items()}
        self.lock = self._state_lock
        self._configured = False

    def configure(self, **kargs) -> None:
        """Set parameters (``_configure``); allowed in any state but running."""
        with self.lock:
            super().configure(**kargs)
            self._configured = True
            if self.state == "new":
                self.state = "configured"

    def initialize(self) -> None:
        """Check input/output specs, then ``_initialize`` (allocate, prepare devices)."""
        with self.lock:
            self._lifecycle_check("initialize")
            self.check_input_specs()
            self.check_output_specs()
            self._lifecycle_call("initialize", self._initialize)

    def start(self) -> None:
        with self.lock:
            if not self._configured:
                raise NodeStateError(f"cannot start() node {self.name!r}: the node is not configured")
            super().start()

    def close(self) -> None:
        """Stop if running (pyacq refuses instead), ``_close``, close every stream."""
        with self.lock:
            super().close()
            self._configured = False

    def _flag(self, name: str) -> bool:
        return self._configured if name == "configured" else super()._flag(name)

    def check_input_specs(self) -> None:
        """Raise if the inputs are not as this node needs them (called by initialize)."""

    def check_output_specs(self) -> None:
        """Raise if the outputs are not as this node needs them (called by initialize)."""


class _MyTest:
    """pyacq's do-nothing node behaviour, used by its tests."""

    def _initialize(self): pass

    def _configure(self): pass

    def _start(self): pass

    def _stop(self): pass

    def _close(self): pass


class _MyTestNode(_MyTest, Node):
    pass


register_node_type(_MyTestNode)


_QT_NAMES = ("WidgetNode", "_MyTestNodeQWidget")     # defined on first use (they import Qt)
_qt_lock = threading.Lock()


def _define_widget_nodes() -> None:
    """Define ``WidgetNode`` and ``_MyTestNodeQWidget`` in this module (Qt comes through
    acqflow.viewers) and register the test type, as importing pyacq's node module does."""
    from ....viewers.base import QtWidgets

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

    for cls in (WidgetNode, _MyTestNodeQWidget):
        cls.__qualname__ = cls.__name__          # module-level names, as pyacq's
    register_node_type(_MyTestNodeQWidget)
    globals().update(WidgetNode=WidgetNode, _MyTestNodeQWidget=_MyTestNodeQWidget)


def __getattr__(name: str):
    if name in _QT_NAMES:
        with _qt_lock:
            if name not in globals():
                _define_widget_nodes()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
