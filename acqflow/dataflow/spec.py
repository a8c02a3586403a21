"""Stream parameters: defaults, normalisation, validation and compatibility checks.

Params travel between processes (msgpack/JSON), so they hold only plain values:
dtypes as numpy strings / descr lists, shapes as tuples of ints.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "PROTOCOLS", "TRANSFERMODES", "STREAMTYPES", "BACKPRESSURES",
    "DEFAULT_PARAMS", "dtype_to_spec", "make_dtype", "normalize_params",
    "check_compatible", "check_filters", "describe", "short", "TRANSPORT_KEYS",
]

PROTOCOLS = ("tcp", "inproc", "ipc")
TRANSFERMODES = ("plaindata", "sharedmem")
STREAMTYPES = ("analogsignal", "digitalsignal", "event", "video")
BACKPRESSURES = ("drop", "block")

EVENT_DTYPE = [("index", "int64"), ("label", "S16")]

DEFAULT_PARAMS: dict[str, Any] = {
    "protocol": "tcp",
    "interface": "127.0.0.1",
    "port": "*",
    "transfermode": "plaindata",
    "streamtype": "analogsignal",
    "dtype": "float32",
    "shape": None,
    "sample_rate": 1.0,
    "buffer_size": None,
    "double": False,
    "axisorder": None,
    "chunksize": None,
    "backpressure": "drop",
    "hwm": None,
    "max_queue_bytes": 64 * 1024 * 1024,
    "max_queue_s": 1.0,
}

# Params that describe one output's transport, not the signal: never inherited by a
# relay's output nor stored with a recording.  (Other layers keep their own copies of
# this list; keep them in step.)
TRANSPORT_KEYS = frozenset({
    "url", "shm_name", "shm_nonce", "port", "interface", "protocol", "transfermode",
    "buffer_size", "hwm", "name", "node", "double", "axisorder", "chunksize", "backpressure",
    "clock_id", "stream_id", "max_queue_bytes", "max_queue_s", "filters"})
_MAX_META_DEPTH = 32

# Keys whose values a stream negotiates; everything else is free metadata
# (channel_info, units, ...) carried along untouched.
_CONTRACT_KEYS = ("streamtype", "dtype", "shape", "transfermode")


def dtype_to_spec(dtype: Any) -> str | list:
    """Plain-value form of a dtype: '<f4' or a descr list for structured dtypes."""
    dt = np.dtype(make_dtype(dtype))
    if dt.fields is None:
        return dt.str
    return [list(field) for field in dt.descr]


def make_dtype(spec: Any) -> np.dtype:
    """Inverse of :func:`dtype_to_spec`; accepts anything ``np.dtype`` does, plus
    descr lists whose items became lists on the wire."""
    if isinstance(spec, list):
        spec = [tuple(make_dtype(x) if isinstance(x, list) and i == 1 else
                      (tuple(x) if isinstance(x, list) else x)
                      for i, x in enumerate(item)) for item in spec]
    try:
        return np.dtype(spec)
    except TypeError as exc:
        raise TypeError(f"not a valid dtype: {spec!r} ({exc})") from None


def short(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for one-line error messages."""
    try:
        text = repr(value)
    except Exception:                     # a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _shape(value: Any, time_axis: bool = False) -> tuple[int, ...]:
    """Normalise a shape; ``time_axis`` also requires its first axis to be -1 (or None)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"shape must be a sequence of ints, got {short(value)}")
    items = list(value)
    if not all(v is None or _is_int(v) or (isinstance(v, (float, np.floating)) and float(v).is_integer())
               for v in items):
        raise ValueError(f"shape must be a sequence of ints, got {short(value)}")
    shape = tuple(-1 if v is None else int(v) for v in items)
    if not shape:
        raise ValueError("shape must have at least the time axis, got ()")
    if any(v <= 0 for v in shape[1:]):
        raise ValueError(f"shape {short(shape)}: only the first (time) axis may be -1")
    if time_axis and shape[0] != -1:
        raise ValueError(f"shape {short(shape)}: the first axis is time and must be -1 "
                         f"(e.g. shape=(-1, {', '.join(map(str, shape[1:])) or '16'}))")
    return shape


def _port(value: Any) -> Any:
    if value == "*":
        return value
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not _is_int(value) or not 0 < int(value) < 65536:
        raise ValueError(f"port must be '*' or an int in 1..65535, got {short(value)}")
    return int(value)


def _check_metadata(key: str, value: Any, depth: int = 0) -> None:
    """Free metadata travels as msgpack/JSON: plain values, lists, dicts, numpy values."""
    if depth > _MAX_META_DEPTH:
        raise ValueError(f"stream param {key!r} is nested more than {_MAX_META_DEPTH} levels deep")
    if value is None or isinstance(value, (bool, int, float, str, bytes, np.generic)):
        if isinstance(value, np.generic) and value.dtype.hasobject:
            raise ValueError(f"stream param {key!r} holds an object value {short(value)}")
        return
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise ValueError(f"stream param {key!r} holds an object array {short(value)}")
        return
    if isinstance(value, (list, tuple)):
        for v in value:
            _check_metadata(key, v, depth + 1)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, (str, int)):
                raise ValueError(f"stream param {key!r} has a non-string key {short(k)}")
            _check_metadata(key, v, depth + 1)
        return
    raise ValueError(f"stream param {key!r} cannot be sent to other processes: {short(value)} "
                     f"({type(value).__name__}; use plain numbers, strings, lists, dicts or arrays)")


def _choice(params: dict, key: str, allowed: tuple[str, ...]) -> None:
    if not isinstance(params[key], str) or params[key] not in allowed:
        raise ValueError(f"{key}={short(params[key])} is not one of {', '.join(allowed)}")


def normalize_params(params: dict[str, Any]) -> dict[str, Any]:
    """Fill defaults, check values and return plain, wire-safe params.

    Raises ValueError/TypeError naming the offending key and value.
    """
    p = dict(DEFAULT_PARAMS)
    streamtype = params.get("streamtype", p["streamtype"])
    if streamtype == "event":
        p.update(dtype=EVENT_DTYPE, shape=(-1,))
    elif streamtype == "digitalsignal":
        p.update(dtype="uint8")
    elif streamtype == "video":
        p.update(dtype="uint8")
    p.update(params)
    for key, allowed in (("protocol", PROTOCOLS), ("transfermode", TRANSFERMODES),
                         ("streamtype", STREAMTYPES), ("backpressure", BACKPRESSURES)):
        _choice(p, key, allowed)
    dt = make_dtype(p["dtype"])
    if dt.hasobject:
        raise ValueError(f"dtype {short(str(dt))} holds Python objects, which cannot be streamed; "
                         f"use fixed-size fields (e.g. 'S16' for labels)")
    p["dtype"] = dtype_to_spec(dt)
    p["port"] = _port(p["port"])
    if not isinstance(p["interface"], str) or not p["interface"]:
        raise ValueError(f"interface must be a host name or address string, got {short(p['interface'])}")
    if p["shape"] is None:
        if p["transfermode"] == "sharedmem":
            raise ValueError("transfermode='sharedmem' needs a shape, e.g. shape=(-1, 16)")
        ndim = {"analogsignal": 2, "event": 1}.get(p["streamtype"])
    else:
        p["shape"] = _shape(p["shape"], time_axis=True)
        ndim = len(p["shape"])
    kind = p["streamtype"]
    if kind == "analogsignal":
        # (time, channels), or (time, h, w, 3) frames as pyacq's image viewer takes them
        if ndim not in (2, 4) or dt.kind not in "fiu":
            raise ValueError(f"analogsignal streams are 2-D numeric (time, channels) or 4-D "
                             f"(time, h, w, colours); got "
                             f"shape={p['shape']} dtype={dt}")
    elif kind == "digitalsignal" and dt != np.uint8:
        raise ValueError(f"digitalsignal streams carry packed bits as uint8, got dtype={dt}")
    elif kind == "event" and ((dt.fields is None and dt.kind not in "iu") or ndim != 1):
        # a plain integer dtype: bare sample indexes, as pyacq's trigger events
        raise ValueError(f"event streams need a structured dtype (or integer indexes) and shape (-1,), got "
                         f"dtype={dt} shape={p['shape']}")
    elif kind == "video" and (ndim not in (None, 3, 4) or dt != np.uint8):
        raise ValueError(f"video streams are uint8 frames (-1, h, w[, c]); got "
                         f"shape={p['shape']} dtype={dt}")
    for key in ("buffer_size", "chunksize", "hwm"):
        if p[key] is not None and (not _is_int(p[key]) or p[key] < 1):
            raise ValueError(f"{key} must be a positive int or None, got {short(p[key])}")
        if p[key] is not None:
            p[key] = int(p[key])
    for key in ("sample_rate", "max_queue_bytes", "max_queue_s"):
        value = p[key]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            raise ValueError(f"{key} must be a number, got {short(value)}")
        if not (math.isfinite(float(value)) and float(value) > 0):
            raise ValueError(f"{key} must be > 0 and finite, got {short(value)}")
        p[key] = float(value)
    p["max_queue_bytes"] = int(p["max_queue_bytes"])
    if p["axisorder"] is not None:
        raw = p["axisorder"]
        if isinstance(raw, (str, bytes)) or not hasattr(raw, "__iter__") or \
                not all(_is_int(a) for a in raw):
            raise ValueError(f"axisorder must be a sequence of ints, got {short(raw)}")
        order = tuple(int(a) for a in raw)
        if sorted(order) != list(range(ndim or len(order))):
            raise ValueError(f"axisorder {short(order)} is not a permutation of the "
                             f"{ndim or len(order)} axes")
        p["axisorder"] = order
    if not isinstance(p["double"], (bool, np.bool_)):
        raise ValueError(f"double must be True or False, got {short(p['double'])}")
    p["double"] = bool(p["double"])
    for key, value in p.items():
        if key not in DEFAULT_PARAMS and key != "filters":
            _check_metadata(key, value)
    return p


def check_filters(filters: Any) -> list:
    """Filters are a list of callables applied to each chunk, in order."""
    if not isinstance(filters, (list, tuple)) or not all(callable(f) for f in filters):
        raise TypeError(f"filters must be a list of callables, got {filters!r}")
    return list(filters)


def describe(params: dict[str, Any]) -> str:
    """Short human description used in error messages."""
    return ", ".join(f"{k}={params[k]!r}" for k in _CONTRACT_KEYS if k in params)


def _shape_fits(required: tuple, offered: tuple) -> bool:
    return len(required) == len(offered) and all(
        r in (-1, None) or r == o
        for r, o in zip(required, offered))


def check_compatible(output_params: dict[str, Any], input_spec: dict[str, Any],
                     output_name: str = "output", input_name: str = "input") -> None:
    """Raise ValueError, naming both sides, when an input's spec refuses an output."""
    problems = []
    for key in _CONTRACT_KEYS:
        if key not in input_spec or input_spec[key] is None or key not in output_params:
            continue
        want, have = input_spec[key], output_params[key]
        if key == "dtype":
            ok = make_dtype(want) == make_dtype(have)
        elif key == "shape":
            ok = have is None or _shape_fits(_shape(want), _shape(have))
        else:
            ok = want == have
        if not ok:
            problems.append(f"{key}: {input_name} requires {want!r}, {output_name} gives {have!r}")
    if problems:
        raise ValueError(f"cannot connect {output_name} ({describe(output_params)}) to "
                         f"{input_name}: " + "; ".join(problems))
