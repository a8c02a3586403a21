"""Remote procedure calls between acqflow processes (pyacq's RPC API family).

``RPCServer`` serves objects, ``RPCClient`` talks to one, ``ObjectProxy`` stands
for a remote object, ``ProcessSpawner`` starts a Python process running a
server.  ``QtRPCServer`` (serving in the Qt GUI thread) is imported lazily so
that importing this package never imports Qt.  See docs/rpc.md.
"""
from __future__ import annotations

from typing import Any

from .client import RPCClient, get_client
from .errors import RemoteCallError, RPCDisconnected, SerializationError, SpawnError
from .futures import Future
from .jsonser import JsonSerializer
from .proxy import ObjectProxy, get_value
from .serializer import MsgpackSerializer, Serializer
from .server import RPCServer
from .spawner import ProcessSpawner
from .types import RPCType, register_type
from .wire import SERIALIZERS, get_serializer

__all__ = ["RPCServer", "RPCClient", "ObjectProxy", "Future", "RemoteCallError",
           "RPCDisconnected", "SpawnError", "SerializationError", "ProcessSpawner",
           "QtRPCServer", "Serializer", "MsgpackSerializer", "JsonSerializer", "SERIALIZERS",
           "get_serializer", "get_client", "get_value", "RPCType", "register_type"]


def __getattr__(name: str) -> Any:
    if name == "QtRPCServer":
        from .qtserver import QtRPCServer
        return QtRPCServer
    raise AttributeError(f"module 'acqflow.rpc' has no attribute {name!r}")
