"""JSON serializer, for clients written in other languages (format in docs/rpc.md).

Values JSON lacks are objects tagged with ``"__type__"`` whose fields come from the
type table (types.py), and proxies.
"""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..dataflow.plain import to_plain
from ..dataflow.stats import Stats
from . import types
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
        try:
            return [json.dumps(_to_json(obj, server, self.proxy_hooks),
                               separators=(",", ":")).encode()]
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
            hooks = self.proxy_hooks
            return json.loads(bytes(body), object_hook=lambda d: _from_json(d, errs, hooks))
        except SerializationError:
            raise
        except Exception as exc:
            raise SerializationError(f"malformed json message: {type(exc).__name__}: {exc}") \
                from exc


def _to_json(o: Any, server: Any, hooks: types.ProxyHooks) -> Any:
    if o is None or type(o) in (bool, str, int, float):
        return o
    if isinstance(o, np.generic):
        if o.dtype.kind in "biuf":        # numbers JSON carries go as plain numbers
            return o.item()
        if o.dtype.hasobject:
            return _to_json(o.item(), server, hooks)
    elif isinstance(o, (bool, str, int, float)):
        return to_plain(o, deep=False)
    if isinstance(o, list):
        return [_to_json(v, server, hooks) for v in o]
    t = types.for_value(o, False)
    if t is not None:
        d: dict[str, Any] = {"__type__": t.tag}
        for name, v in zip(t.fields, t.encode(o), strict=True):
            if name == "base64":
                v = base64.b64encode(v).decode("ascii")
            elif name not in t.plain_fields:
                v = _to_json(v, server, hooks)
            d[name] = v
        return d
    if isinstance(o, dict):
        return {k: _to_json(v, server, hooks) for k, v in o.items()}
    if isinstance(o, Stats):              # stats travel by value, as their plain dict
        return _to_json(o.as_dict(), server, hooks)
    return {"__type__": "proxy", **hooks.to_wire(o, server)}


def _from_json(d: dict, errors: list, hooks: types.ProxyHooks) -> Any:
    kind = d.get("__type__")
    if kind is None:
        return d
    try:
        if kind == "proxy":
            return hooks.from_wire({k: v for k, v in d.items() if k != "__type__"}, errors)
        t = types.by_tag(kind, d) if isinstance(kind, str) else None
        if t is None:
            raise SerializationError(f"unknown __type__ {kind!r}")
        fields = []
        for name in t.fields:
            v = d[name] if name in d else t.defaults[name]
            if name == "base64":
                v = base64.b64decode(v, validate=True)
            elif name in t.list_fields and not isinstance(v, list):
                raise SerializationError(f"{kind} needs an {name!r} list")
            fields.append(v)
        return t.decode(*fields)
    except SerializationError:
        raise
    except Exception as exc:
        raise SerializationError(f"malformed {kind!r} value: {type(exc).__name__}: {exc}") from exc
