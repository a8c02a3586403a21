"""``pyacq.core.rpc`` onto ``acqflow.rpc`` (migration table: docs/pyacq.md, RPC and logging)."""
from acqflow.rpc import ObjectProxy, ProcessSpawner, RPCClient, RPCServer
from acqflow.rpc import RemoteCallError as RemoteCallException  # pyacq's name
from acqflow.rpc import Future, RPCDisconnected

from . import log, serializer  # noqa: F401  (pyacq.core.rpc.log, .serializer)

__all__ = ["RPCClient", "RemoteCallException", "RPCServer", "QtRPCServer", "ObjectProxy",
           "ProcessSpawner", "Future", "RPCDisconnected", "log", "serializer"]


def __getattr__(name: str):
    if name == "QtRPCServer":           # pulls Qt: imported on first use
        from acqflow.rpc.qtserver import QtRPCServer
        return QtRPCServer
    raise AttributeError(f"module 'pyacq.core.rpc' has no attribute {name!r}")
