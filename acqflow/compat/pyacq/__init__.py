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

__all__ = ["install", "uninstall", "installed", "ENV_FLAG"]

#: Environment variable set by ``install()`` so child processes install the aliases too.
ENV_FLAG = "ACQFLOW_PYACQ_COMPAT"

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
    """Make ``import pyacq`` (and its submodules) resolve to acqflow, here and in child processes."""
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    os.environ[ENV_FLAG] = "1"


def uninstall() -> None:
    """Remove the aliases (modules already imported as ``pyacq.*`` stay in ``sys.modules``)."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if n == _ALIAS or n.startswith(_ALIAS + ".")]:
        del sys.modules[name]
    os.environ.pop(ENV_FLAG, None)


def installed() -> bool:
    """True when ``install()`` is in effect in this process."""
    return _finder in sys.meta_path


def install_from_env() -> None:
    """Called at a child process's start: install when the parent process had installed."""
    if os.environ.get(ENV_FLAG) == "1":
        install()
