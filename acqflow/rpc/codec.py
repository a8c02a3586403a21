"""Value codecs used by the type table (types.py): dtypes, arrays to and from buffers."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..dataflow.streams.spec import DtypeError, dtype_from_plain, dtype_to_spec
from .errors import SerializationError

__all__ = ["dtype_spec", "dtype_from_spec", "array_fields", "array_from_buffer",
           "object_array", "scalar_from_bytes", "from_iso"]

_MAX_NDIM = 64


def dtype_spec(dt: np.dtype) -> str | list:
    """Plain-value form of a dtype (the stream params' codec: ``'<f8'`` or a descr list)."""
    return dtype_to_spec(dt)


def dtype_from_spec(spec: Any) -> np.dtype:
    """Inverse of :func:`dtype_spec`; raises SerializationError on anything odd."""
    try:
        return dtype_from_plain(spec)
    except DtypeError as exc:
        raise SerializationError(f"bad dtype: {exc}") from None


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


def array_fields(a: np.ndarray) -> tuple[str | list, list[int], str, Any]:
    """``(dtype, shape, order, raw bytes view)`` of a non-object array, without a copy
    when it is C or Fortran contiguous."""
    spec = dtype_spec(a.dtype)
    shape = list(a.shape)
    order = "C"
    if not a.flags.c_contiguous:
        if a.flags.f_contiguous and a.ndim > 1:
            a, order = a.T, "F"
        else:
            a = np.ascontiguousarray(a)
    raw = a.reshape(-1).view(np.uint8) if a.dtype.itemsize else b""
    return spec, shape, order, raw


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


def scalar_from_bytes(spec: Any, raw: Any) -> Any:
    """A numpy scalar from its dtype and raw bytes."""
    dt = dtype_from_spec(spec)
    if dt.hasobject or not isinstance(raw, bytes) or len(raw) != dt.itemsize:
        raise SerializationError(f"malformed numpy scalar of dtype {spec!r}")
    if dt.itemsize == 0:
        return np.zeros((), dt)[()]
    return np.frombuffer(raw, dtype=dt, count=1)[0]
