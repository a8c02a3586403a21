"""Ctrl-C in a script: one line instead of a KeyboardInterrupt traceback.

``quiet_interrupt()`` at the top of a script (every example calls it) keeps Python's
behaviour, a KeyboardInterrupt that unwinds the script so its ``with`` and ``finally``
blocks close streams, nodes and processes, and only changes what is printed when it
reaches the top: ``interrupted``, once, instead of a traceback.  Once the script has
ended, a Ctrl-C no longer interrupts the interpreter's own clean-up (joining threads,
``atexit`` callbacks such as logging's), where it would leave half-done work and
tracebacks.  The exit status stays that of a SIGINT (130 in a shell).  A leaf module.
"""
from __future__ import annotations

import atexit
import signal
import sys
import threading
from types import TracebackType
from typing import Any

__all__ = ["quiet_interrupt"]


def quiet_interrupt(message: str | None = "interrupted") -> None:
    """Print ``message`` (on stderr, once; None: nothing, for a helper process) instead of
    a traceback when Ctrl-C ends the script."""
    if getattr(sys.excepthook, "_acqflow_quiet", False):
        return
    previous_hook, previous_unraisable = sys.excepthook, sys.unraisablehook
    said: list[bool] = []

    def say() -> None:
        if message is not None and not said:
            said.append(True)
            print(message, file=sys.stderr, flush=True)

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            say()
        else:
            previous_hook(kind, value, tb)

    def unraisable(info: Any) -> None:
        if issubclass(info.exc_type, KeyboardInterrupt):
            say()
        else:
            previous_unraisable(info)

    def ignore_ctrl_c() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    hook._acqflow_quiet = True  # type: ignore[attr-defined]
    sys.excepthook, sys.unraisablehook = hook, unraisable
    # the shutdown's first steps: joining threads (threading's own hook), then atexit
    # callbacks, last registered first (so before those registered until now)
    getattr(threading, "_register_atexit", atexit.register)(ignore_ctrl_c)
    atexit.register(ignore_ctrl_c)
