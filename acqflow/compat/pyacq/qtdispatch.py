"""Runs a callback in the Qt GUI thread while its event loop runs: how pyacq's
``ThreadPollInput`` (pyacq.core.tools) delivers ``new_data``, as pyacq's Qt signal did.

Without a running loop :func:`dispatch` returns False and the caller runs the callback in
its own thread, so code that never starts a Qt loop is not left waiting.  Only pyacq's
ThreadPollInput uses it: acqflow's own ThreadPollInputs call back in their thread.
"""
from __future__ import annotations

import threading
from typing import Callable

from pyqtgraph.Qt import QtCore

__all__ = ["dispatch"]


class _Relay(QtCore.QObject):
    """Lives in the GUI thread; its signal, emitted from any thread, runs the call there."""

    call = QtCore.pyqtSignal(object, object, object)

    def __init__(self):
        super().__init__()
        self.call.connect(self._run)

    @QtCore.pyqtSlot(object, object, object)      # a real slot: it runs in the relay's thread
    def _run(self, callback: Callable, args: tuple, on_exception: Callable) -> None:
        _call(callback, args, on_exception)


def _call(callback: Callable, args: tuple, on_exception: Callable) -> None:
    try:
        callback(*args)
    except Exception as exc:     # noqa: BLE001 - handed on, never swallowed
        on_exception(exc)


_relay: _Relay | None = None
_lock = threading.Lock()


def dispatch(callback: Callable, args: tuple, on_exception: Callable) -> bool:
    """Queue ``callback(*args)`` to the GUI thread if its Qt loop runs; False otherwise."""
    global _relay
    app = QtCore.QCoreApplication.instance()
    if app is None or app.thread().loopLevel() == 0:
        return False
    if QtCore.QThread.currentThread() is app.thread():
        _call(callback, args, on_exception)
        return True
    with _lock:
        relay = _relay
        if relay is None or relay.thread() is not app.thread():
            relay = _Relay()
            relay.moveToThread(app.thread())
            _relay = relay
    relay.call.emit(callback, args, on_exception)
    return True

