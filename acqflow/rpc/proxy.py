"""ObjectProxy: a local stand-in for an object living in another process."""
from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, NoReturn

from .. import hooks
from ..dataflow.paramcheck import one_of
from . import refs, registry
from .errors import SerializationError
from .types import ProxyHooks

__all__ = ["ObjectProxy", "SYNC_MODES", "RETURN_TYPES", "ForceProxy", "get_value",
           "proxy_to_wire", "proxy_from_wire", "check_proxy_wire", "PROXY_HOOKS"]

SYNC_MODES = ("sync", "async", "off")
RETURN_TYPES = ("auto", "proxy", "value")
_OWN = frozenset(("_ref", "_attrs", "_opts", "_ref_id"))
#: Ids told apart per received proxy (pyacq's ``_ref_id``); process-wide, never reused.
_ref_ids = itertools.count(1)


class ObjectProxy:
    """Proxy to a remote object (or to an attribute path of it).

    Attribute access is deferred: ``proxy.a.b`` builds a new proxy without any
    network traffic.  Calling sends the request: ``proxy.f(x, _sync='async')``
    returns a Future, ``_sync='off'`` returns None and asks for no reply.
    ``acqflow.rpc.get_value(proxy)`` fetches the value.  Proxies are equal when they name the
    same remote object and attribute path; they can be sent to other processes,
    which then talk to the owner directly.  Each proxy received has its own ``_ref_id``
    (pyacq's), kept by the proxies derived from it (``proxy.attr``).
    """

    __slots__ = ("_ref", "_attrs", "_opts", "_ref_id", "__weakref__")

    def __init__(self, ref: refs.RemoteRef, attrs: tuple[str, ...] = (),
                 opts: dict | None = None, ref_id: int | None = None):
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_attrs", tuple(attrs))
        object.__setattr__(self, "_opts", dict(opts) if opts else {})
        object.__setattr__(self, "_ref_id", next(_ref_ids) if ref_id is None else ref_id)

    # -- wire ----------------------------------------------------------------
    @classmethod
    def _from_wire(cls, d: dict) -> ObjectProxy:
        """Proxy from a (validated) wire dict, taking over its weight."""
        ref = refs.acquire(d["address"], d["obj_id"], d.get("weight", 0), d.get("type", ""),
                           d.get("server_key"))
        return cls(ref, tuple(d.get("attrs", ())))

    def _wire(self) -> dict:
        """Wire dict for sending this proxy on; gives away part of our weight."""
        ref = self._ref
        weight = ref.split()
        if weight == 0:
            ref.add(self._client().incref(ref.obj_id))
            weight = ref.split()
        d = {"address": ref.address, "obj_id": ref.obj_id, "weight": weight,
             "attrs": list(self._attrs), "type": ref.type_name}
        if ref.server_key:
            d["server_key"] = ref.server_key
        return d

    # -- plumbing ------------------------------------------------------------
    @property
    def _address(self) -> str:
        return self._ref.address

    @property
    def _obj_id(self) -> int:
        return self._ref.obj_id

    def _client(self) -> Any:
        """The RPCClient for this thread and the owner's address (client.py imports this module,
        so its client_for comes through hooks.RPC_CLIENT)."""
        return hooks.get(hooks.RPC_CLIENT)(self._ref.address, self._ref.server_key)

    def _set_proxy_options(self, sync: str | None = None, timeout: float | None = None,
                           return_type: str | None = None, defer_getattr: bool | None = None,
                           auto_delete: bool | None = None) -> ObjectProxy:
        """Default ``_sync``/``_timeout``/``_return_type`` for calls through this proxy
        (and proxies derived from it later).  ``defer_getattr=False`` makes attribute
        access fetch at once (pyacq's default; acqflow defers).  ``auto_delete`` is
        accepted for pyacq: remote objects are always released when their last proxy goes."""
        if defer_getattr is not None:
            self._opts["defer_getattr"] = bool(defer_getattr)
        if sync is not None:
            one_of(*SYNC_MODES)("sync", sync)
            self._opts["sync"] = sync
        if timeout is not None:
            self._opts["timeout"] = timeout
        if return_type is not None:
            one_of(*RETURN_TYPES)("return_type", return_type)
            self._opts["return_type"] = return_type
        return self

    def _derive(self, *names: str) -> ObjectProxy:
        return ObjectProxy(self._ref, self._attrs + names, self._opts, self._ref_id)

    # -- remote operations ---------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        if self._opts.get("defer_getattr", True):
            return self._derive(name)
        return self._derive(name)._undefer()

    def _undefer(self, _timeout: float | None = None) -> Any:
        """Fetch the deferred attribute path now: its value if basic, else a proxy."""
        if not self._attrs:
            return self
        return self._client().get_attr(self._ref.obj_id, self._attrs, return_type="auto",
                                       timeout=_timeout if _timeout is not None
                                       else self._opts.get("timeout"))

    @property
    def _attributes(self) -> tuple[str, ...]:
        """The deferred attribute path (pyacq's name)."""
        return self._attrs

    @property
    def _type_str(self) -> str:
        """The remote object's type as ``str(type(obj))`` shows it (pyacq's name)."""
        return f"<class '{self._ref.type_name}'>"

    def _delete(self) -> None:
        """Give this process's share of the remote object back now (pyacq's name): the
        owner frees it once no other process holds a proxy to it."""
        ref = self._ref
        weight, ref.weight = ref.weight, 0
        if weight:
            refs.queue_release(ref.address, ref.obj_id, weight)
            self._client()._flush_releases()

    def __call__(self, *args: Any, _sync: str | None = None, _timeout: float | None = None,
                 _return_type: str | None = None, **kwargs: Any) -> Any:
        opts = self._opts
        return self._client().call_obj(
            self._ref.obj_id, self._attrs, args, kwargs,
            sync=_sync or opts.get("sync", "sync"),
            timeout=_timeout if _timeout is not None else opts.get("timeout"),
            return_type=_return_type or opts.get("return_type", "auto"))

    def _get_value(self, _timeout: float | None = None) -> Any:
        """Fetch the remote object (or attribute) by value (pyacq's name; see
        :func:`get_value`)."""
        return self._client().get_attr(self._ref.obj_id, self._attrs, return_type="value",
                                       timeout=_timeout if _timeout is not None
                                       else self._opts.get("timeout"))

    def _get_proxy(self, _timeout: float | None = None) -> ObjectProxy:
        """Resolve the deferred attribute path into a proxy to the object it names."""
        return self._client().get_attr(self._ref.obj_id, self._attrs, return_type="proxy",
                                       timeout=_timeout)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OWN:
            raise AttributeError(f"cannot set {name} on an ObjectProxy")
        self._client().set_attr(self._ref.obj_id, self._attrs + (name,), value,
                                timeout=self._opts.get("timeout"))

    def __getitem__(self, key: Any) -> Any:
        return self._derive("__getitem__")(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._derive("__setitem__")(key, value, _sync="sync", _return_type="auto")

    def __delitem__(self, key: Any) -> None:
        self._derive("__delitem__")(key, _sync="sync")

    def __len__(self) -> int:
        return self._derive("__len__")(_sync="sync", _return_type="auto")

    def __contains__(self, item: Any) -> bool:
        return self._derive("__contains__")(item, _sync="sync", _return_type="auto")

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> NoReturn:
        raise TypeError("an ObjectProxy is not iterable; iterate over acqflow.rpc.get_value(proxy)")

    # -- identity ------------------------------------------------------------
    def __eq__(self, other: Any) -> Any:
        """Two proxies: equal when they name the same remote object and path.  A proxy
        and a value: the remote object compares itself with the value (as pyacq's)."""
        if not isinstance(other, ObjectProxy):
            return self._remote_op("__eq__", other)
        return (self._ref.address, self._ref.obj_id, self._attrs) == \
            (other._ref.address, other._ref.obj_id, other._attrs)

    def __ne__(self, other: Any) -> Any:
        if not isinstance(other, ObjectProxy):
            return self._remote_op("__ne__", other)
        return not self.__eq__(other)

    def _remote_op(self, name: str, other: Any) -> Any:
        result = self._derive(name)(other, _sync="sync", _return_type="auto")
        if isinstance(result, ObjectProxy) and result._ref.type_name == "NotImplementedType":
            return NotImplemented
        return result

    def __hash__(self) -> int:
        return hash((self._ref.address, self._ref.obj_id, self._attrs))

    def __repr__(self) -> str:
        path = "".join("." + a for a in self._attrs)
        return f"<ObjectProxy {self._ref.type_name or 'object'} #{self._ref.obj_id}{path} " \
               f"at {self._ref.address}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("ObjectProxy cannot be pickled; send it through RPC instead")


def _remote_operator(name: str) -> Callable[[ObjectProxy, Any], Any]:
    def op(self: ObjectProxy, other: Any) -> Any:
        return self._remote_op(name, other)
    op.__name__ = name
    op.__doc__ = f"``{name}`` evaluated by the remote object (as pyacq's proxies do)."
    return op


for _name in ("lt", "le", "gt", "ge", "add", "sub", "mul", "truediv", "floordiv", "mod", "pow",
              "and", "or", "xor", "lshift", "rshift", "radd", "rsub", "rmul", "rtruediv",
              "rfloordiv", "rmod", "rpow", "rand", "ror", "rxor"):
    setattr(ObjectProxy, f"__{_name}__", _remote_operator(f"__{_name}__"))


def get_value(proxy: Any, timeout: float | None = None) -> Any:
    """The value of the remote object (or attribute path) ``proxy`` stands for, fetched
    by value; any other value is returned as it is.  (A function rather than a proxy
    method, so that it cannot clash with a remote attribute called ``value``.)"""
    if isinstance(proxy, ObjectProxy):
        return proxy._get_value(timeout)
    return proxy


# -- proxies on the wire (the serializers' hooks) ---------------------------------------
class ForceProxy:
    """Wraps a value that must be sent as a proxy even if it is serializable."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any):
        self.obj = obj


def proxy_to_wire(obj: Any, server: Any = None) -> dict:
    """Wire map of a proxy to ``obj`` served by ``server`` (None: the calling thread's);
    an ObjectProxy is forwarded, giving away part of its weight."""
    if isinstance(obj, ForceProxy):
        obj = obj.obj
    if isinstance(obj, ObjectProxy):
        return obj._wire()
    if server is None:
        server = registry.serving_server()
    if server is None or server.closed:
        raise SerializationError(
            f"cannot send {type(obj).__name__} object: it is not serializable and no "
            "RPCServer serves this thread to publish it by proxy "
            "(start one with RPCServer().run_lazy())")
    return server.proxy_wire(obj)


def check_proxy_wire(d: Any) -> dict:
    """Validate an untrusted proxy map; return it."""
    if not isinstance(d, dict):
        raise SerializationError("malformed proxy: not a map")
    if not isinstance(d.get("address"), str) or type(d.get("obj_id")) is not int or \
            type(d.get("weight", 0)) is not int or d.get("weight", 0) < 0:
        raise SerializationError("malformed proxy: needs address, obj_id and weight")
    attrs = d.get("attrs", [])
    if not isinstance(attrs, list) or not all(isinstance(a, str) for a in attrs):
        raise SerializationError("malformed proxy: attrs must be a list of names")
    key = d.get("server_key")
    if key is not None and not isinstance(key, str):
        raise SerializationError("malformed proxy: server_key must be a string")
    return d


def proxy_from_wire(d: Any, errors: list) -> Any:
    """The object a proxy map stands for: the real object if its server belongs to the
    calling thread, else an ObjectProxy (so that another thread's calls, even in this
    process, run in the server's thread).  Resolution failures go to ``errors``, give None."""
    d = check_proxy_wire(d)
    server = registry.by_address(d["address"])
    if server is not None and server.in_own_thread():
        try:
            return server.resolve_wire(d)
        except Exception as exc:
            errors.append(exc)
            return None
    return ObjectProxy._from_wire(d)


PROXY_HOOKS = ProxyHooks(proxy_to_wire, proxy_from_wire)
