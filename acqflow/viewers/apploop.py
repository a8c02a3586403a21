"""Run Qt's event loop so that Ctrl-C (SIGINT) and SIGTERM end it cleanly.

Python runs a signal handler only between bytecodes, never while Qt's C++ loop
waits; and its default SIGINT handler raises KeyboardInterrupt inside whatever Qt
slot runs next (a traceback, and the loop goes on).  :func:`stop_on_signals`
replaces the handlers while the loop runs by one that calls ``stop()`` and keeps a
100 ms timer so Python gets to run it; :func:`run_app` uses it around ``exec_()``.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Callable, Iterator

from pyqtgraph.Qt import QtCore, QtWidgets

from .base import get_app

__all__ = ["run_app", "stop_on_signals"]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM call ``stop()`` (from the Qt loop of this, the
    main, thread) instead of raising KeyboardInterrupt; the old handlers come back after.
    Off the main thread (where Python cannot set handlers) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda *_: stop())
    wake = QtCore.QTimer()
    wake.timeout.connect(lambda: None)      # Python code in the loop: handlers get to run
    wake.start(100)
    try:
        yield
    finally:
        wake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_app(app: QtWidgets.QApplication | None = None, announce: str | None = None) -> None:
    """Run the Qt event loop (``pg.exec()``) until the last window is closed, or until
    Ctrl-C / SIGTERM, which close every window (their closeEvents run) and quit.
    ``announce``: printed (flushed) once the loop runs and Ctrl-C is handled."""
    app = app or get_app()

    def stop() -> None:
        app.closeAllWindows()
        app.quit()

    with stop_on_signals(stop):
        if announce is not None:
            QtCore.QTimer.singleShot(0, lambda: print(announce, flush=True))
        app.exec_()
