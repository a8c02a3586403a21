"""JSON serializer, for clients written in other languages (format in docs/rpc.md).

Values JSON lacks are objects tagged with ``"__type__"``: ndarray, bytes, tuple,
dict (non-string keys), datetime, date, time, timedelta, set, frozenset,
complex, scalar and proxy.
"""
from __future__ import annotations

import base64
import datetime as _dt
import json
import re
from typing import Any, Sequence

import numpy as np

from . import codec
from .errors import SerializationError
from .serializer import MAX_JSON_DEPTH, Serializer, _simple_id

__all__ = ["JsonSerializer", "json_depth", "peek_json_req_id"]

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_OPEN, _CLOSE = re.compile(rb"[\[{]"), re.compile(rb"[\]}]")
_REQ_ID = re.compile(rb'"req_id"\s*:\s*(-?\d{1,19}(?![.\deE])|"[^"\\]{0,256}")')


def json_depth(body: bytes) -> int:
    """Deepest bracket nesting of a JSON text (brackets inside strings do not count);
    a cheap scan made before parsing, so that a hostile message is refused early."""
    text = _STRING.sub(b"", bytes(body))
    if not _OPEN.search(text):
        return 0
    a = np.frombuffer(text, np.uint8)
    step = (a == 0x5B).astype(np.int32) + (a == 0x7B) - (a == 0x5D) - (a == 0x7D)
    return int(np.cumsum(step).max())


def peek_json_req_id(body: Any) -> Any:
    """The top-level ``req_id`` of a JSON request that cannot be decoded, read leniently."""
    raw = bytes(body)
    try:
        if json_depth(raw) <= MAX_JSON_DEPTH:
            msg = json.loads(raw)
            return _simple_id(msg.get("req_id")) if isinstance(msg, dict) else None
    except Exception:
        pass
    # broken JSON: the first "req_id" key sitting in the top-level object (depth 1)
    a = np.frombuffer(raw, np.uint8).copy()
    for m in _STRING.finditer(raw):
        a[m.start():m.end()] = 0x20
    depth = np.cumsum((a == 0x5B).astype(np.int32) + (a == 0x7B) - (a == 0x5D) - (a == 0x7D))
    for m in _REQ_ID.finditer(raw):
        if depth[m.start()] == 1:
            try:
                return _simple_id(json.loads(m.group(1)))
            except ValueError:
                return None
    return None


class JsonSerializer(Serializer):
    """UTF-8 JSON in a single frame; arrays and bytes are base64 encoded."""

    name = "json"

    def dumps(self, obj: Any, server: Any = None) -> list:
        ctx = codec.EncodeContext(server)
        try:
            return [json.dumps(_to_json(obj, ctx), separators=(",", ":")).encode()]
        except (TypeError, ValueError, RecursionError) as exc:
            raise SerializationError(f"cannot serialize with json: {exc}") from exc

    def peek_req_id(self, body: bytes) -> Any:
        return peek_json_req_id(body)

    def loads(self, body: bytes, buffers: Sequence = (), errors: list | None = None) -> Any:
        errs = errors if errors is not None else []
        if isinstance(body, list):        # the frames dumps() gave
            body = body[0]
        try:
            depth = json_depth(body)
        except Exception as exc:
            raise SerializationError(f"malformed json message: {type(exc).__name__}: {exc}") \
                from exc
        if depth > MAX_JSON_DEPTH:
            raise SerializationError(f"json message nests lists/maps {depth} levels deep; "
                                     f"the limit is {MAX_JSON_DEPTH}")
        try:
            return json.loads(bytes(body), object_hook=lambda d: _from_json(d, errs))
        except SerializationError:
            raise
        except Exception as exc:
            raise SerializationError(f"malformed json message: {type(exc).__name__}: {exc}") \
                from exc


def _b64(raw: Any) -> str:
    return base64.b64encode(raw).decode("ascii")


def _to_json(o: Any, ctx: codec.EncodeContext) -> Any:
    if isinstance(o, np.generic):
        if o.dtype.kind in "biuf":
            return o.item()
        if o.dtype.hasobject:
            return _to_json(o.item(), ctx)
        return {"__type__": "scalar", "dtype": codec.dtype_spec(o.dtype), "base64": _b64(o.tobytes())}
    if o is None or isinstance(o, (bool, str)):
        return str.__str__(o) if isinstance(o, str) else o
    if isinstance(o, (int, float)) and not isinstance(o, np.generic):
        return int(o) if isinstance(o, int) else float(o)
    if isinstance(o, list):
        return [_to_json(v, ctx) for v in o]
    if isinstance(o, tuple):
        return {"__type__": "tuple", "items": [_to_json(v, ctx) for v in o]}
    if isinstance(o, dict):
        if all(type(k) is str for k in o) and "__type__" not in o:
            return {k: _to_json(v, ctx) for k, v in o.items()}
        return {"__type__": "dict", "items": [[_to_json(k, ctx), _to_json(v, ctx)]
                                              for k, v in o.items()]}
    if isinstance(o, (bytes, bytearray, memoryview)):
        return {"__type__": "bytes", "base64": _b64(bytes(o))}
    if isinstance(o, np.ndarray):
        spec = codec.dtype_spec(o.dtype)
        if o.dtype.hasobject:
            return {"__type__": "ndarray", "dtype": spec, "shape": list(o.shape),
                    "items": [_to_json(v, ctx) for v in o.reshape(-1).tolist()]}
        return {"__type__": "ndarray", "dtype": spec, "shape": list(o.shape), "order": "C",
                "base64": _b64(np.ascontiguousarray(o).tobytes())}
    if isinstance(o, _dt.datetime):
        return {"__type__": "datetime", "iso": o.isoformat() + ("#1" if o.fold else "")}
    if isinstance(o, _dt.date):
        return {"__type__": "date", "iso": o.isoformat()}
    if isinstance(o, _dt.time):
        return {"__type__": "time", "iso": o.isoformat() + ("#1" if o.fold else "")}
    if isinstance(o, _dt.timedelta):
        return {"__type__": "timedelta", "days": o.days, "seconds": o.seconds,
                "microseconds": o.microseconds}
    if isinstance(o, (set, frozenset)):
        kind = "frozenset" if isinstance(o, frozenset) else "set"
        return {"__type__": kind, "items": [_to_json(v, ctx) for v in o]}
    if isinstance(o, complex):
        return {"__type__": "complex", "real": o.real, "imag": o.imag}
    return {"__type__": "proxy", **ctx.proxy_wire(o)}


def _items(d: dict) -> list:
    items = d.get("items")
    if not isinstance(items, list):
        raise SerializationError(f"{d.get('__type__')} needs an 'items' list")
    return items


def _from_json(d: dict, errors: list) -> Any:
    kind = d.get("__type__")
    if kind is None:
        return d
    try:
        if kind == "tuple":
            return tuple(_items(d))
        if kind == "dict":
            return {k: v for k, v in _items(d)}
        if kind == "bytes":
            return base64.b64decode(d["base64"], validate=True)
        if kind == "ndarray":
            if "items" in d:
                return codec.object_array(d["dtype"], d["shape"], _items(d))
            raw = base64.b64decode(d["base64"], validate=True)
            return codec.array_from_buffer(d["dtype"], d["shape"], d.get("order", "C"),
                                           bytearray(raw), copy=False)
        if kind == "scalar":
            return codec.scalar_from_bytes(d["dtype"], base64.b64decode(d["base64"], validate=True))
        if kind == "datetime":
            return codec.from_iso(_dt.datetime, d["iso"])
        if kind == "date":
            return _dt.date.fromisoformat(d["iso"])
        if kind == "time":
            return codec.from_iso(_dt.time, d["iso"])
        if kind == "timedelta":
            return _dt.timedelta(days=d["days"], seconds=d["seconds"],
                                 microseconds=d["microseconds"])
        if kind == "set":
            return set(_items(d))
        if kind == "frozenset":
            return frozenset(_items(d))
        if kind == "complex":
            return complex(d["real"], d["imag"])
        if kind == "proxy":
            wire = {k: v for k, v in d.items() if k != "__type__"}
            return codec.proxy_from_wire(wire, errors)
    except SerializationError:
        raise
    except Exception as exc:
        raise SerializationError(f"malformed {kind!r} value: {type(exc).__name__}: {exc}") from exc
    raise SerializationError(f"unknown __type__ {kind!r}")
