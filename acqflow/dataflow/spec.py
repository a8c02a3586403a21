"""Stream parameters: defaults, normalisation, validation and compatibility checks.

Params travel between processes (msgpack/JSON), so they hold only plain values:
dtypes as numpy strings / descr lists, shapes as tuples of ints.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "PROTOCOLS", "TRANSFERMODES", "STREAMTYPES", "BACKPRESSURES",
    "DEFAULT_PARAMS", "dtype_to_spec", "make_dtype", "normalize_params",
    "check_compatible", "check_filters", "describe",
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
}

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


def _shape(value: Any) -> tuple[int, ...]:
    try:
        shape = tuple(-1 if v is None else int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be a sequence of ints, got {value!r}") from None
    if not shape:
        raise ValueError("shape must have at least the time axis, got ()")
    if any(v <= 0 for v in shape[1:]):
        raise ValueError(f"shape {shape}: only the first (time) axis may be -1")
    return shape


def _choice(params: dict, key: str, allowed: tuple[str, ...]) -> None:
    if params[key] not in allowed:
        raise ValueError(f"{key}={params[key]!r} is not one of {', '.join(allowed)}")


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
    p["dtype"] = dtype_to_spec(dt)
    if p["shape"] is None:
        if p["transfermode"] == "sharedmem":
            raise ValueError("transfermode='sharedmem' needs a shape, e.g. shape=(-1, 16)")
        ndim = {"analogsignal": 2, "event": 1}.get(p["streamtype"])
    else:
        p["shape"] = _shape(p["shape"])
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
        if p[key] is not None and (not isinstance(p[key], (int, np.integer)) or p[key] < 1):
            raise ValueError(f"{key} must be a positive int or None, got {p[key]!r}")
        if p[key] is not None:
            p[key] = int(p[key])
    try:
        p["sample_rate"] = float(p["sample_rate"])
    except (TypeError, ValueError):
        raise ValueError(f"sample_rate must be a number, got {p['sample_rate']!r}") from None
    if not p["sample_rate"] > 0:
        raise ValueError(f"sample_rate must be > 0, got {p['sample_rate']!r}")
    if p["axisorder"] is not None:
        order = tuple(int(a) for a in p["axisorder"])
        if sorted(order) != list(range(ndim or len(order))):
            raise ValueError(f"axisorder {order} is not a permutation of the {len(p['shape'])} axes")
        p["axisorder"] = order
    p["double"] = bool(p["double"])
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
