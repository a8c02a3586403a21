"""``acqflow compat install-pyacq`` / ``uninstall-pyacq`` / ``status``: ``import pyacq`` in every
Python process of an environment, also in processes acqflow did not start.

``install-pyacq`` writes ``acqflow-pyacq-compat.pth`` into the environment's site-packages
(or ``--site DIR``).  Python runs its one line at every start: it appends a finder to
``sys.meta_path`` that does nothing until ``pyacq`` is imported and no installed package
provides it; then acqflow's aliases are installed (acqflow.compat.pyacq.hook).  The cost
for processes that never import pyacq is one small object, not an acqflow import.
"""
from __future__ import annotations

import os
import sysconfig

__all__ = ["PTH_NAME", "PTH_LINE", "site_dir", "install_pth", "uninstall_pth"]

PTH_NAME = "acqflow-pyacq-compat.pth"
#: One line, run by site.py at start (a .pth line that begins with ``import``).
PTH_LINE = ("import sys; sys.meta_path.append(type('AcqflowPyacqHook', (), {'find_spec': "
            "staticmethod(lambda name, path=None, target=None: "
            "__import__('acqflow.compat.pyacq.hook', fromlist=['find_spec']).find_spec(name, path, target) "
            "if name == 'pyacq' or name.startswith('pyacq.') else None)})())\n")


def site_dir() -> str:
    """This environment's site-packages (where pip installs pure-Python packages)."""
    return sysconfig.get_paths()["purelib"]


def install_pth(site: str | None = None) -> str:
    """Write the .pth file into ``site`` (default: site-packages); its path."""
    site = site or site_dir()
    if not os.path.isdir(site):
        raise FileNotFoundError(f"no such directory: {site!r}")
    path = os.path.join(site, PTH_NAME)
    with open(path, "w") as f:
        f.write(PTH_LINE)
    return path


def uninstall_pth(site: str | None = None) -> str | None:
    """Remove the .pth file from ``site``; its path, or None if it was not there."""
    path = os.path.join(site or site_dir(), PTH_NAME)
    try:
        os.remove(path)
    except FileNotFoundError:
        return None
    return path
