"""Delivers ThreadPollInput's ``new_data`` in the Qt GUI thread while its event loop runs.

``install()`` registers :func:`dispatch` with :func:`acqflow.dataflow.streams.threadpoll.set_loop_dispatcher`
(dataflow never imports Qt).  While the QApplication's loop runs, a chunk's callbacks are
queued to the GUI thread, as pyacq's Qt signal delivered them; without a running loop they
run in the polling thread, so code that never starts a Qt loop is not left waiting.
"""
from __future__ import annotations

import threading
from typing import Callable

from pyqtgraph.Qt import QtCore

from ..dataflow.streams.threadpoll import loop_dispatcher, set_loop_dispatcher

__all__ = ["install", "uninstall", "dispatch"]


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


def install() -> None:
    """Make ThreadPollInput deliver ``new_data`` in the running Qt loop's thread."""
    set_loop_dispatcher(dispatch)


def uninstall() -> None:
    """Go back to delivering ``new_data`` in the polling thread."""
    if loop_dispatcher() is dispatch:
        set_loop_dispatcher(None)
