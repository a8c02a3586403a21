"""QtRPCServer: an RPCServer whose requests run in the Qt GUI thread.

Imported lazily (``acqflow.rpc.QtRPCServer``) so that acqflow.rpc never imports
Qt otherwise.  The zmq socket lives in the GUI thread; a QSocketNotifier on its
file descriptor (plus a slow safety timer, since that descriptor is
edge-triggered) makes the Qt event loop handle requests.
"""
from __future__ import annotations

import os
from typing import Any

import zmq
from PyQt5 import QtCore

from . import registry, wire
from .server import RPCServer

__all__ = ["QtRPCServer", "in_gui_thread"]



def in_gui_thread() -> bool:
    """True when called from the Qt application's GUI thread (handy to check remotely)."""
    app = QtCore.QCoreApplication.instance()
    return app is not None and QtCore.QThread.currentThread() is app.thread()


class QtRPCServer(RPCServer):
    """RPC server served by the Qt event loop of the GUI thread (create it there, after
    the QApplication).  As pyacq's: it serves whenever the Qt event loop runs
    (``app.exec_()``, ``processEvents()``); ``run_forever()`` only starts it and
    returns.  ``quit_on_close``: closing the server quits the QApplication."""

    def __init__(self, address: str | None = None, *, quit_on_close: bool = True,
                 keys_dir: str | os.PathLike | None = None, **kwargs: Any):
        app = QtCore.QCoreApplication.instance()
        if app is None:
            raise RuntimeError("create a QApplication before a QtRPCServer")
        if QtCore.QThread.currentThread() is not app.thread():
            raise RuntimeError("create a QtRPCServer in the Qt GUI thread")
        super().__init__(address, keys_dir=keys_dir, **kwargs)
        self._app = app
        self.quit_on_close = quit_on_close
        self.run_lazy()   # sync calls made from the GUI thread keep serving requests
        self._notifier = QtCore.QSocketNotifier(
            self._socket.get(zmq.FD), QtCore.QSocketNotifier.Read)  # type: ignore[arg-type,attr-defined]
        self._notifier.activated.connect(self._on_activity)
        self._timer = QtCore.QTimer()
        self._timer.timeout.connect(self._on_activity)
        self._timer.start(50)
        QtCore.QTimer.singleShot(0, self._on_activity)

    def _on_activity(self, *_: Any) -> None:
        if self._closed:
            return
        if self._close_requested:
            self._close_now()
            return
        if wire.has_message(self._socket):
            self._process()
            if not self._closed and wire.has_message(self._socket):
                QtCore.QTimer.singleShot(0, self._on_activity)

    def run_forever(self) -> None:
        """Start serving and return (pyacq's behaviour): requests are handled by the Qt
        event loop, which the caller runs (``app.exec_()``)."""
        if self._closed:
            raise RuntimeError("server is closed")
        registry.mark_forever(self)

    def exec_(self) -> None:
        """Run the Qt event loop until the server closes (``quit_on_close``) or the app quits."""
        if not self._closed:
            self._app.exec_()

    def close(self) -> None:
        """Close; from another thread the GUI thread closes it within ~50 ms."""
        if self._closed:
            return
        self._close_requested = True
        if QtCore.QThread.currentThread() is self._app.thread():
            self._close_now()

    def _close_now(self) -> None:
        if self._closed:
            return
        self._notifier.setEnabled(False)
        self._timer.stop()
        super()._close_now()
        if self.quit_on_close:
            self._app.quit()
