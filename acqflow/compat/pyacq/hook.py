"""What the ``.pth`` line of ``acqflow compat install-pyacq`` calls on the first ``import pyacq``.

The line itself only appends a tiny finder to ``sys.meta_path`` (acqflow is not imported at
interpreter start); on the first ``import pyacq`` that no installed package answers, it
imports this module, which installs the aliases (:func:`acqflow.compat.pyacq.install`) and
answers with the alias's spec.  A real pyacq, if installed, is found first and left alone.
"""
from __future__ import annotations

from . import _finder, install

__all__ = ["find_spec"]


def find_spec(name: str, path=None, target=None):
    """The spec of ``pyacq[.x]`` as the installed aliases give it."""
    install()
    return _finder.find_spec(name, path, target)
