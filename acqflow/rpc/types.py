"""The one RPC type table: every value msgpack or JSON cannot carry natively.

Each :class:`RPCType` names a Python type, its msgpack ext ``code``, its JSON
``tag`` (``"__type__"``) and its ``fields``; ``encode`` turns a value into field
values and ``decode`` turns them back.  Both serializers read this table: msgpack
packs the fields as a list (one field: the value itself; ``raw``: UTF-8 text as
the ext payload), JSON writes them as named keys next to ``"__type__"`` (a field
called ``base64`` holds bytes, base64-encoded in JSON).  Field values are encoded in
turn, so they may hold any value the table or a proxy can carry.  Adding a type is one
:func:`register_type` call (docs/extending.md, "Adding an RPC type").

Proxies are not in the table: they are the fallback for everything else, made and
resolved by hooks (:class:`ProxyHooks`) that proxy.py provides.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import codec
from .errors import SerializationError

__all__ = ["RPCType", "ProxyHooks", "register_type", "for_value", "by_code", "by_tag", "TYPES",
           "PROXY_CODE", "FRAME_CODE", "BIGINT_CODE", "BigInt"]

PROXY_CODE = 8       # packed proxy map (msgpack); JSON tag "proxy"
FRAME_CODE = 2       # an ndarray whose bytes travel as a separate frame (msgpack only)
BIGINT_CODE = 14     # an int beyond 64 bits (msgpack only; JSON has big ints)


@dataclass(frozen=True)
class RPCType:
    """One row of the type table (see the module docstring)."""

    name: str                          # for messages and ``EXT``
    code: int | None                   # msgpack ext code; None: msgpack carries it natively
    tag: str | None                    # JSON ``__type__``; None: JSON carries it natively
    types: tuple[type, ...]            # Python types it encodes (subclasses too)
    fields: tuple[str, ...]
    encode: Callable[[Any], tuple]     # value -> field values
    decode: Callable[..., Any]         # *field values -> value
    when: Callable[[Any], bool] | None = None   # only values this accepts
    raw: bool = False                  # msgpack payload: the single text field as UTF-8
    list_fields: tuple[str, ...] = field(default=())  # fields that must be lists
    plain_fields: tuple[str, ...] = field(default=())  # JSON: as json writes them, untagged
    defaults: dict[str, Any] = field(default_factory=dict)  # JSON fields a client may omit


TYPES: list[RPCType] = []
_by_type: dict[type, list[RPCType]] = {}
_by_code: dict[int, RPCType] = {}
_by_tag: dict[str, list[RPCType]] = {}


def register_type(t: RPCType) -> RPCType:
    """Add ``t`` to the table (in every process that sends or receives it); its code
    and its (tag, fields) must be new.  Codes 1-14 are acqflow's: take 64-127 for yours."""
    if t.code is not None and (t.code in _by_code or t.code in (PROXY_CODE, FRAME_CODE)):
        raise ValueError(f"msgpack ext code {t.code} of {t.name!r} is taken")
    if t.tag is not None and any(o.fields == t.fields for o in _by_tag.get(t.tag, ())):
        raise ValueError(f"JSON tag {t.tag!r} with fields {t.fields} is taken")
    if t.raw and len(t.fields) != 1:
        raise ValueError("a raw type has exactly one (text) field")
    TYPES.append(t)
    _by_type.clear()
    if t.code is not None:
        _by_code[t.code] = t
    if t.tag is not None:
        _by_tag.setdefault(t.tag, []).append(t)
    return t


def for_value(o: Any, binary: bool) -> RPCType | None:
    """The table row encoding ``o`` for msgpack (``binary``) or JSON, or None."""
    rows = _by_type.get(type(o))
    if rows is None:
        rows = _by_type[type(o)] = [t for t in TYPES if isinstance(o, t.types)]
    for t in rows:
        if (t.code if binary else t.tag) is not None and (t.when is None or t.when(o)):
            return t
    return None


def by_code(code: int) -> RPCType | None:
    """The row with msgpack ext ``code``."""
    return _by_code.get(code)


def by_tag(tag: str, keys: Any) -> RPCType | None:
    """The row with JSON ``tag`` whose fields are all among ``keys``."""
    for t in _by_tag.get(tag, ()):
        if all(f in keys or f in t.defaults for f in t.fields):
            return t
    return None


@dataclass(frozen=True)
class ProxyHooks:
    """How serializers send an unserializable value by proxy and resolve a received one.

    ``to_wire(obj, server)``: the proxy map for ``obj`` (``server`` serves it, or None
    for the calling thread's).  ``from_wire(map, errors)``: the object a proxy map stands
    for; resolution problems go to ``errors``."""

    to_wire: Callable[[Any, Any], dict]
    from_wire: Callable[[Any, list], Any]


# -- the table ------------------------------------------------------------------------
def _iso(o: Any) -> tuple:
    return (o.isoformat() + ("#1" if getattr(o, "fold", 0) else ""),)


def _array(o: np.ndarray) -> tuple:
    spec, shape, _, raw = codec.array_fields(o if o.flags.c_contiguous else o.copy(order="C"))
    return spec, shape, "C", bytes(raw)


class BigInt:
    """An int outside msgpack's 64-bit range, wrapped by the msgpack encoder."""

    __slots__ = ("value",)

    def __init__(self, value: int):
        self.value = value


def _bigint(text: str) -> int:
    if len(text) > 4300:
        raise SerializationError("bigint too long")
    return int(text)


def _row(name: str, code: int | None, tag: str | None, types: Any, fields: str,
         encode: Callable[[Any], tuple], decode: Callable[..., Any], **kw: Any) -> None:
    register_type(RPCType(name, code, tag, types if isinstance(types, tuple) else (types,),
                     tuple(fields.split()), encode, decode, **kw))


_row("ndarray", 1, "ndarray", np.ndarray, "dtype shape order base64", _array,
     lambda spec, shape, order, raw: codec.array_from_buffer(spec, shape, order, raw, copy=True),
     when=lambda a: not a.dtype.hasobject, defaults={"order": "C"}, plain_fields=("dtype",))
_row("tuple", 3, "tuple", tuple, "items", lambda o: (list(o),), tuple, list_fields=("items",))
_row("datetime", 4, "datetime", _dt.datetime, "iso", _iso,
     lambda s: codec.from_iso(_dt.datetime, s), raw=True)
_row("date", 5, "date", _dt.date, "iso", _iso, _dt.date.fromisoformat, raw=True)
_row("time", 6, "time", _dt.time, "iso", _iso, lambda s: codec.from_iso(_dt.time, s), raw=True)
_row("timedelta", 7, "timedelta", _dt.timedelta, "days seconds microseconds",
     lambda o: (o.days, o.seconds, o.microseconds),
     lambda d, s, us: _dt.timedelta(days=d, seconds=s, microseconds=us))
_row("scalar", 9, "scalar", np.generic, "dtype base64",
     lambda o: (codec.dtype_spec(o.dtype), o.tobytes()), codec.scalar_from_bytes,
     when=lambda o: not o.dtype.hasobject, plain_fields=("dtype",))
_row("frozenset", 11, "frozenset", frozenset, "items", lambda o: (list(o),), frozenset,
     list_fields=("items",))
_row("set", 10, "set", set, "items", lambda o: (list(o),), set, list_fields=("items",))
_row("complex", 12, "complex", complex, "real imag", lambda o: (o.real, o.imag), complex)
_row("ndarray_obj", 13, "ndarray", np.ndarray, "dtype shape items",
     lambda o: (codec.dtype_spec(o.dtype), list(o.shape), o.reshape(-1).tolist()),
     codec.object_array, list_fields=("items",), plain_fields=("dtype",))
_row("bigint", BIGINT_CODE, None, BigInt, "text", lambda o: (str(o.value),), _bigint, raw=True)
# JSON only (msgpack carries these natively)
_row("bytes", None, "bytes", (bytes, bytearray, memoryview), "base64", lambda o: (bytes(o),),
     bytes)
_row("dict", None, "dict", dict, "items", lambda o: ([[k, v] for k, v in o.items()],),
     lambda items: {k: v for k, v in items}, list_fields=("items",),
     when=lambda o: "__type__" in o or not all(type(k) is str for k in o))
