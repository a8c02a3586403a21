"""pyacq's module tree as thin aliases onto acqflow.

``install()`` registers a finder so that ``import pyacq`` and every ``pyacq.x.y`` resolve to
``acqflow.compat.pyacq`` and ``acqflow.compat.pyacq.x.y``: unchanged pyacq code runs on acqflow.
Processes started by the spawner or a host daemon call ``install()`` too when the parent had.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import sys

from . import qtshim

__all__ = ["install", "uninstall", "installed", "install_from_env", "ENV_FLAG", "CHILD_IMPORTS"]

#: Environment variable set by ``install()`` so child processes install the aliases too.
ENV_FLAG = "ACQFLOW_PYACQ_COMPAT"
#: Comma-separated modules a spawned process (acqflow.rpc.bootstrap) imports at start;
#: ``install()`` adds :data:`CHILD_MODULE`, which calls :func:`install_from_env`.
CHILD_IMPORTS = "ACQFLOW_CHILD_IMPORTS"
CHILD_MODULE = __name__ + ".child"

_ALIAS = "pyacq"
_TARGET = __name__  # "acqflow.compat.pyacq"


class _AliasLoader(importlib.abc.Loader):
    """Loads ``pyacq.x`` as the already-imported ``acqflow.compat.pyacq.x`` module object."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module) -> None:
        """Nothing to run: the target module was executed by its own import."""


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Maps ``pyacq[.x.y]`` onto ``acqflow.compat.pyacq[.x.y]``."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _ALIAS and not fullname.startswith(_ALIAS + "."):
            return None
        real = _TARGET + fullname[len(_ALIAS):]
        if importlib.util.find_spec(real) is None:
            return None
        is_pkg = hasattr(importlib.import_module(real), "__path__")
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real), is_package=is_pkg)


_finder = _AliasFinder()


def install() -> None:
    """Make ``import pyacq`` (and its submodules) resolve to acqflow, here and in child processes
    (and give ``pyqtgraph.Qt.QtGui`` the widget names pyacq's code takes from it: qtshim)."""
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    qtshim.install()
    os.environ[ENV_FLAG] = "1"
    modules = [m for m in os.environ.get(CHILD_IMPORTS, "").split(",") if m]
    if CHILD_MODULE not in modules:
        os.environ[CHILD_IMPORTS] = ",".join(modules + [CHILD_MODULE])


def uninstall() -> None:
    """Remove the aliases (modules already imported as ``pyacq.*`` stay in ``sys.modules``)."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    qtshim.uninstall()
    for name in [n for n in sys.modules if n == _ALIAS or n.startswith(_ALIAS + ".")]:
        del sys.modules[name]
    os.environ.pop(ENV_FLAG, None)
    modules = [m for m in os.environ.get(CHILD_IMPORTS, "").split(",") if m and m != CHILD_MODULE]
    if modules:
        os.environ[CHILD_IMPORTS] = ",".join(modules)
    else:
        os.environ.pop(CHILD_IMPORTS, None)


def installed() -> bool:
    """True when ``install()`` is in effect in this process."""
    return _finder in sys.meta_path


def install_from_env() -> None:
    """Called at a child process's start: install when the parent process had installed."""
    if os.environ.get(ENV_FLAG) == "1":
        install()


# -- pyacq's top-level names: ``pyacq.X`` is pyacq.core's, devices' or viewers' X ------------
__version__ = "0.2.0"       # the pyacq API level these aliases follow
_SUBPACKAGES = ("core", "devices", "viewers", "dsp")


def __getattr__(name: str):
    """``pyacq.Name`` as pyacq's ``from .core import *``, ``.devices``, ``.viewers``, ``.dsp`` give it."""
    if name.startswith("__"):
        raise AttributeError(name)
    for sub in _SUBPACKAGES:
        try:
            module = importlib.import_module(f"{_TARGET}.{sub}")
        except ModuleNotFoundError as exc:
            if exc.name and f"{_TARGET}.{sub}".startswith(exc.name):
                continue          # that part of the tree is not there (yet)
            raise
        try:
            value = getattr(module, name)
        except AttributeError:
            continue
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pyacq' (acqflow.compat.pyacq) has no attribute {name!r}")
