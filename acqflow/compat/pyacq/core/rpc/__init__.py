"""``pyacq.core.rpc`` onto ``acqflow.rpc`` (migration table: docs/pyacq.md, RPC and logging).

The classes are acqflow's; ``RPCServer``, ``QtRPCServer`` and ``ProcessSpawner`` only take
pyacq's argument names and order on top (``addr=``, ``ProcessSpawner(name, addr, qt)``).
"""
from __future__ import annotations

import sys
import threading
from typing import Any

from acqflow import rpc as _rpc
from acqflow.rpc import Future, ObjectProxy, RPCClient, RPCDisconnected
from acqflow.rpc import RemoteCallError as RemoteCallException  # pyacq's name

from . import log, serializer  # noqa: F401  (pyacq.core.rpc.log, .serializer)

__all__ = ["RPCClient", "RemoteCallException", "RPCServer", "QtRPCServer", "ObjectProxy",
           "ProcessSpawner", "ThreadSpawner", "Future", "RPCDisconnected", "log", "serializer"]


class RPCServer(_rpc.RPCServer):
    """acqflow's RPCServer, also taking pyacq's ``addr=``."""

    def __init__(self, addr: str | None = None, **kwargs: Any):
        super().__init__(kwargs.pop("address", addr), **kwargs)


class ProcessSpawner(_rpc.ProcessSpawner):
    """acqflow's ProcessSpawner with pyacq's arguments ``(name, addr, qt, log_addr,
    log_level, executable)``; ``log_addr`` is ignored: records reach the parent anyway.
    ``.addr`` is the child's address."""

    def __init__(self, name: str | None = None, addr: str | None = None, qt: bool = False,
                 log_addr: str | None = None, log_level: int | None = None,
                 executable: str | None = None, **kwargs: Any):
        super().__init__(name, qt, kwargs.pop("address", addr), log_level=log_level,
                         python=executable or kwargs.pop("python", sys.executable), **kwargs)

    @property
    def addr(self) -> str:
        """pyacq's name for ``address``."""
        return self.address


class ThreadSpawner:
    """pyacq's ThreadSpawner: an RPCServer serving in a new thread of this process;
    ``client`` talks to it, ``stop()`` (or ``kill()``) closes it."""

    def __init__(self, name: str | None = None, addr: str | None = None, qt: bool = False,
                 **kwargs: Any):
        if qt:
            raise ValueError("ThreadSpawner(qt=True): a Qt server serves only the GUI thread "
                             "(use QtRPCServer there)")
        self.name, self._server = name, None
        ready = threading.Event()

        def serve() -> None:
            self._server = RPCServer(addr)
            ready.set()
            self._server.run_forever()

        self.thread = threading.Thread(target=serve, name=name or "ThreadSpawner", daemon=True)
        self.thread.start()
        if not ready.wait(30) or self._server is None:
            raise RuntimeError(f"ThreadSpawner {name!r}: its server did not start within 30 s")
        self.address = self._server.address
        self.client = RPCClient.get_client(self.address)

    def stop(self) -> None:
        """Close the thread's server and wait for the thread to end."""
        self.client.close_server()
        self.thread.join(30)

    kill = stop


def __getattr__(name: str):
    if name == "QtRPCServer":           # pulls Qt: built on first use
        from acqflow.rpc.qtserver import QtRPCServer as _Qt

        class QtRPCServer(_Qt):
            """acqflow's QtRPCServer, also taking pyacq's ``addr=``."""

            def __init__(self, addr: str | None = None, quit_on_close: bool = True,
                         **kwargs: Any):
                super().__init__(kwargs.pop("address", addr), quit_on_close=quit_on_close,
                                 **kwargs)

        QtRPCServer.__module__ = __name__
        globals()["QtRPCServer"] = QtRPCServer
        return QtRPCServer
    raise AttributeError(f"module 'pyacq.core.rpc' has no attribute {name!r}")
