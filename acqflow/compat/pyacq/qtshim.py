"""pyqtgraph's old Qt names, as pyacq's code uses them from ``pyqtgraph.Qt``.

pyacq was written when ``pyqtgraph.Qt.QtGui`` also held Qt5's widgets (``QtGui.QLabel``,
``QtGui.QApplication``), which pyqtgraph >= 0.13 no longer adds, and when ``QThread`` had
Qt4's ``terminated`` signal (pyacq's tests emit it).  While the pyacq aliases are installed,
``pyqtgraph.Qt`` gets them back when it is imported (or at once if it already was): every
name of ``QtWidgets`` missing from ``QtGui``, and ``QtCore.QThread`` becomes a subclass that
declares ``terminated``.  Only pyqtgraph's ``QtCore``/``QtGui`` namespaces change (not
PyQt5's modules); Qt itself is never imported by this module.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

__all__ = ["add_old_names", "finder"]

_TARGET = "pyqtgraph.Qt"


def add_old_names(qt: ModuleType) -> None:
    """Give ``qt.QtGui`` (pyqtgraph.Qt's) every public name of ``qt.QtWidgets`` it lacks, and
    ``qt.QtCore.QThread`` a ``terminated`` signal."""
    gui, widgets = getattr(qt, "QtGui", None), getattr(qt, "QtWidgets", None)
    if gui is not None and widgets is not None:
        for name in dir(widgets):
            if name.startswith("Q") and not hasattr(gui, name):
                setattr(gui, name, getattr(widgets, name))
    core = getattr(qt, "QtCore", None)
    thread = getattr(core, "QThread", None)
    if core is not None and thread is not None and not hasattr(thread, "terminated"):
        core.QThread = type("QThread", (thread,), {"terminated": core.Signal(),
                                                   "__module__": __name__})


class _Loader(importlib.abc.Loader):
    """Runs pyqtgraph.Qt's own loader, then adds the widget names."""

    def __init__(self, loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        add_old_names(module)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds ``pyqtgraph.Qt`` as the path finder does, with a loader that patches it."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


finder = _Finder()


def install() -> None:
    """Patch pyqtgraph.Qt now if imported, else when it is."""
    if _TARGET in sys.modules:
        add_old_names(sys.modules[_TARGET])
    if finder not in sys.meta_path:
        sys.meta_path.insert(0, finder)


def uninstall() -> None:
    """Stop patching later imports (a pyqtgraph.Qt already patched stays so)."""
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)
