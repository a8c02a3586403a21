"""Ctrl-C in a script: one line instead of a KeyboardInterrupt traceback.

``acqflow.quiet_interrupt()`` at the top of a script (every example calls it) keeps
Python's behaviour, a KeyboardInterrupt that unwinds the script so its ``with`` and
``finally`` blocks close streams, nodes and processes, and only changes what is
printed when it reaches the top: ``interrupted`` instead of a traceback.  The exit
status stays that of a SIGINT (130 in a shell).  A leaf module, like ``errors``.
"""
from __future__ import annotations

import sys
from types import TracebackType

__all__ = ["quiet_interrupt"]


def quiet_interrupt(message: str | None = "interrupted") -> None:
    """Print ``message`` (on stderr; None: nothing, for a helper process) instead of a
    traceback when Ctrl-C ends the script."""
    previous = sys.excepthook
    if getattr(previous, "_acqflow_quiet", False):
        return

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            if message is not None:
                print(message, file=sys.stderr, flush=True)
        else:
            previous(kind, value, tb)

    hook._acqflow_quiet = True  # type: ignore[attr-defined]
    sys.excepthook = hook
