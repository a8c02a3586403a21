"""Value codecs shared by the serializers: dtypes, arrays from buffers, proxies on the wire."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import registry
from .errors import SerializationError

__all__ = ["dtype_spec", "dtype_from_spec", "array_from_buffer", "object_array",
           "scalar_from_bytes", "EncodeContext", "ForceProxy", "proxy_from_wire",
           "check_proxy_wire"]

_MAX_NDIM = 64


def dtype_spec(dt: np.dtype) -> str | list:
    """Plain-value form of a dtype: ``'<f8'`` or a ``descr`` list for structured dtypes."""
    if dt.fields is None and dt.subdtype is None:
        return dt.str
    return np.lib.format.dtype_to_descr(dt)


def _tuplify(descr: Any) -> Any:
    """Turn a descr that lost its tuples on the wire (JSON) back into numpy's form."""
    if isinstance(descr, str):
        return descr
    if not isinstance(descr, (list, tuple)):
        raise SerializationError(f"bad dtype description {descr!r}")
    fields = []
    for field in descr:
        if not isinstance(field, (list, tuple)) or len(field) not in (2, 3):
            raise SerializationError(f"bad dtype field {field!r}")
        name = tuple(field[0]) if isinstance(field[0], list) else field[0]
        item = [name, _tuplify(field[1])]
        if len(field) == 3:
            item.append(tuple(field[2]) if isinstance(field[2], list) else field[2])
        fields.append(tuple(item))
    return fields


def dtype_from_spec(spec: Any) -> np.dtype:
    """Inverse of :func:`dtype_spec`; raises SerializationError on anything odd."""
    try:
        if isinstance(spec, str):
            return np.dtype(spec)
        return np.lib.format.descr_to_dtype(_tuplify(spec))
    except SerializationError:
        raise
    except Exception as exc:
        raise SerializationError(f"bad dtype {spec!r}: {exc}") from exc


def from_iso(cls: Any, text: str) -> Any:
    """datetime/time from ISO 8601 text, with an optional ``#1`` fold marker."""
    iso, _, fold = text.partition("#")
    value = cls.fromisoformat(iso)
    return value.replace(fold=1) if fold == "1" else value


def _shape(shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, (list, tuple)) or len(shape) > _MAX_NDIM or \
            not all(type(n) is int and n >= 0 for n in shape):
        raise SerializationError(f"bad array shape {shape!r}")
    return tuple(shape)


def array_from_buffer(spec: Any, shape: Any, order: Any, buf: Any, copy: bool) -> np.ndarray:
    """Array of ``shape`` viewing (or copying) the raw bytes ``buf``."""
    dt = dtype_from_spec(spec)
    shape = _shape(shape)
    if dt.hasobject:
        raise SerializationError("refusing to build an object array from raw bytes")
    if order not in ("C", "F"):
        raise SerializationError(f"bad array order {order!r}")
    n = math.prod(shape)
    try:
        nbytes = memoryview(buf).nbytes
    except TypeError as exc:
        raise SerializationError(f"array payload is not a buffer: {type(buf).__name__}") from exc
    if nbytes != n * dt.itemsize:
        raise SerializationError(f"array payload has {nbytes} bytes, expected "
                                 f"{n * dt.itemsize} for {dt} {shape}")
    if n == 0 or dt.itemsize == 0:
        return np.zeros(shape, dt)
    flat = np.frombuffer(bytearray(buf) if copy else buf, dtype=dt, count=n)
    return flat.reshape(shape[::-1]).T if order == "F" else flat.reshape(shape)


def object_array(spec: Any, shape: Any, items: Any) -> np.ndarray:
    """Array of Python objects (or structured with object fields) from a flat item list."""
    dt = dtype_from_spec(spec)
    shape = _shape(shape)
    if not dt.hasobject or not isinstance(items, list) or len(items) != math.prod(shape):
        raise SerializationError("malformed object array")
    arr = np.empty(len(items), dt)
    for i, v in enumerate(items):
        arr[i] = v
    return arr.reshape(shape)


def scalar_from_bytes(spec: Any, raw: Any) -> np.generic:
    """A numpy scalar from its dtype and raw bytes."""
    dt = dtype_from_spec(spec)
    if dt.hasobject or not isinstance(raw, bytes) or len(raw) != dt.itemsize:
        raise SerializationError(f"malformed numpy scalar of dtype {spec!r}")
    if dt.itemsize == 0:
        return np.zeros((), dt)[()]
    return np.frombuffer(raw, dtype=dt, count=1)[0]


class ForceProxy:
    """Wraps a value that must be sent as a proxy even if it is serializable."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any):
        self.obj = obj


class EncodeContext:
    """Turns unserializable values into proxy dicts served by a local RPC server."""

    __slots__ = ("server",)

    def __init__(self, server: Any = None):
        self.server = server

    def proxy_wire(self, obj: Any) -> dict:
        """Wire dict of a proxy to ``obj`` (an ObjectProxy is forwarded, with weight)."""
        from .proxy import ObjectProxy
        if isinstance(obj, ForceProxy):
            obj = obj.obj
        if isinstance(obj, ObjectProxy):
            return obj._wire()
        server = self.server if self.server is not None else registry.serving_server()
        if server is None or server.closed:
            raise SerializationError(
                f"cannot send {type(obj).__name__} object: it is not serializable and no "
                "RPCServer serves this thread to publish it by proxy "
                "(start one with RPCServer().run_lazy())")
        return server.proxy_wire(obj)


def check_proxy_wire(d: Any) -> dict:
    """Validate an untrusted proxy dict; return it."""
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
    """The object a proxy dict stands for: the real object if its server belongs to the
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
    from .proxy import ObjectProxy
    return ObjectProxy._from_wire(d)
