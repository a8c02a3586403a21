"""Exceptions raised by the RPC layer, and the local form of an exception raised remotely."""
from __future__ import annotations

import builtins
import importlib
import re
import sys
import threading
from typing import Any, cast

from ..errors import Error

__all__ = ["RemoteCallError", "RPCDisconnected", "ServerProcessDied", "SpawnError",
           "SerializationError", "remote_error", "mark_origin", "error_origin"]


class RemoteCallError(Error):
    """An exception raised on the remote side.

    ``remote_type``, ``remote_message``, ``remote_traceback`` (the full remote traceback,
    also in the exception's notes, so a printed traceback shows it) and ``remote_where``
    (``in node 'x' on group 'g'`` when known).  A remote builtin or acqflow exception
    arrives as a subclass of both its own class and this one (see :func:`remote_error`).
    """

    remote_type: str
    remote_message: str
    remote_traceback: str
    remote_where: str

    def __init__(self, remote_type: str, message: str, remote_traceback: str = "",
                 where: str = ""):
        super().__init__(remote_type, message, remote_traceback)
        _fill(self, remote_type, message, remote_traceback, where)

    @property
    def type_str(self) -> str:
        """pyacq's name for ``remote_type``."""
        return self.remote_type

    def __str__(self) -> str:
        return f"{self.remote_type}: {_one_line(self)}"


class RPCDisconnected(Error, ConnectionError, RuntimeError):
    """The server closed, its process exited, or the client was closed (a RuntimeError
    too, as pyacq raises for a disconnected server)."""


class ServerProcessDied(RPCDisconnected, TimeoutError):
    """The server's process exited without closing: no reply will ever come (a
    TimeoutError too, as pyacq's client times out on a dead server)."""


class SpawnError(Error, RuntimeError):
    """A child process failed to start its RPC server; the message holds its traceback."""


class SerializationError(Error, TypeError):
    """A value cannot be encoded or a message cannot be decoded."""


def _fill(exc: RemoteCallError, remote_type: str, message: str, tb: str, where: str) -> None:
    exc.remote_type, exc.remote_message = remote_type, message
    exc.remote_traceback, exc.remote_where = tb, where
    if tb:
        exc.add_note("===== remote traceback =====\n" + tb.rstrip())


def _one_line(exc: RemoteCallError) -> str:
    lines = str(exc.remote_message).strip().splitlines()
    text = lines[0] if lines else ""
    return f"{text} ({exc.remote_where})" if exc.remote_where else text


def _typed_str(self: RemoteCallError) -> str:
    return _one_line(self)


def _typed_reduce(self: RemoteCallError) -> tuple:
    """Pickled as the error reply it came from (its class is made at run time)."""
    return remote_error, ({"type": self.remote_type, "module": type(self).__module__,
                           "message": self.remote_message, "traceback": self.remote_traceback,
                           "where": self.remote_where},)


_SUBCLASSES: dict[type, type | None] = {}
_LOCK = threading.Lock()
_MODULE = re.compile(r"acqflow(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


def _allowed_class(module: Any, name: Any) -> type | None:
    """The local exception class ``module.name`` when it is on the allow-list (a builtin
    exception, or an exception class of an acqflow module), else None.  Only acqflow's
    own ``*.errors`` modules are imported here; any other module must be loaded already."""
    if not isinstance(name, str) or not name.isidentifier() or not isinstance(module, str):
        return None
    if module == "builtins":
        cls = getattr(builtins, name, None)
    elif _MODULE.match(module):
        mod = sys.modules.get(module)
        if mod is None and module.rsplit(".", 1)[-1] == "errors":
            try:
                mod = importlib.import_module(module)
            except ImportError:
                return None
        cls = getattr(mod, name, None) if mod is not None else None
        if cls is not None and getattr(cls, "__module__", None) != module:
            return None
    else:
        return None
    if not isinstance(cls, type) or not issubclass(cls, Exception) or issubclass(cls, RemoteCallError):
        return None
    return cls


def _remote_subclass(cls: type) -> type | None:
    """A class deriving from ``cls`` and RemoteCallError, one per ``cls``; None when
    the two cannot be combined (incompatible instance layouts)."""
    with _LOCK:
        if cls not in _SUBCLASSES:
            try:
                sub = type(cls.__name__, (cls, RemoteCallError),
                           {"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                            "__str__": _typed_str, "__reduce__": _typed_reduce,
                            "__init__": RemoteCallError.__init__,
                            "__doc__": f"A {cls.__name__} raised remotely (also a RemoteCallError)."})
            except TypeError:
                sub = None
            _SUBCLASSES[cls] = sub
        return _SUBCLASSES[cls]


def remote_error(error: Any) -> RemoteCallError:
    """The exception to raise for an error reply (``{"type", "module", "message",
    "traceback", "where"}``): of the remote exception's own class when it is allowed
    (see :func:`_allowed_class`), else a plain RemoteCallError."""
    if not isinstance(error, dict):
        error = {"type": "Error", "message": str(error)}
    rtype, message = str(error.get("type")), str(error.get("message"))
    tb, where = str(error.get("traceback") or ""), str(error.get("where") or "")
    cls = _allowed_class(error.get("module"), error.get("type"))
    sub = _remote_subclass(cls) if cls is not None else None
    if sub is None:
        return RemoteCallError(rtype, message, tb, where)
    try:
        exc = cast(Any, sub).__new__(sub)
    except Exception:   # noqa: BLE001 - a __new__ that needs arguments
        return RemoteCallError(rtype, message, tb, where)
    exc.args = (message,)
    _fill(exc, rtype, message, tb, where)
    return exc


def mark_origin(exc: BaseException, target: Any) -> None:
    """Note on ``exc``, raised by calling ``target``, where it was raised (the error
    reply's ``where``: see :func:`error_origin`)."""
    try:
        setattr(exc, "rpc_where", error_origin(target))
    except Exception:   # noqa: BLE001 - an exception that takes no attributes goes without
        pass


def error_origin(target: Any) -> str:
    """Where a call on ``target`` runs, for an error's one line: ``in node 'x' on group
    'g'`` (the node owning a bound method, or owning the stream it is bound to)."""
    from .log import get_process_name
    owner = getattr(target, "__self__", target)
    node = _node_name(owner) or _node_name(getattr(owner, "node", None))
    process = get_process_name()
    named = not process.startswith("process-")   # a spawned process has its spawner's name
    if node is not None:       # a Manager's group process is named after the group
        return f"in node {node!r}" + (f" on group {process!r}" if named else "")
    return f"in process {process!r}" if named else ""


def _node_name(obj: Any) -> str | None:
    from ..dataflow.graph.node import Node
    name = getattr(obj, "name", None) if isinstance(obj, Node) else None
    return name if isinstance(name, str) else None
