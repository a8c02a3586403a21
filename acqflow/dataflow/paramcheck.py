"""Checks of single parameter values: (key, value) -> normalised value, or a one-line
ValueError naming both (TypeError where a callable is expected).

acqflow's one vocabulary for "must be ..." messages: stream params (the table in
:mod:`.spec` says which param uses which), node and device ``configure`` keywords (``key``
then reads ``"<node name>: <keyword>"``), viewer settings, storage and CLI options."""
from __future__ import annotations

import difflib
import math
from typing import Any, Callable, NoReturn

import numpy as np

from .shortrepr import short_repr as short   # the one bounded repr, by its older name here

__all__ = ["short", "did_you_mean", "check_plain", "one_of", "positive_int_or_none", "positive_number", "flag",
           "non_negative_number", "finite_number", "int_in", "non_empty_str", "a_callable", "less_than",
           "must_be", "refusal"]

_MAX_META_DEPTH = 32


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
    if any(v == -1 for v in shape[1:]):
        raise ValueError(f"shape {short(shape)}: only the first (time) axis may be -1")
    if any(v <= 0 for v in shape[1:]):
        raise ValueError(f"shape {short(shape)}: every axis after the first (time) one must be > 0")
    if time_axis and shape[0] != -1:
        raise ValueError(f"shape {short(shape)}: the first axis is time and must be -1 "
                         f"(e.g. shape=(-1, {', '.join(map(str, shape[1:])) or '16'}))")
    return shape


def check_plain(key: str, value: Any, depth: int = 0) -> Any:
    """Free metadata travels as msgpack/JSON: plain values, lists, dicts, numpy values."""
    if depth > _MAX_META_DEPTH:
        raise ValueError(f"stream param {key!r} is nested more than {_MAX_META_DEPTH} levels deep")
    if value is None or isinstance(value, (bool, int, float, str, bytes, np.generic)):
        if isinstance(value, np.generic) and value.dtype.hasobject:
            raise ValueError(f"stream param {key!r} holds an object value {short(value)}")
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise ValueError(f"stream param {key!r} holds an object array {short(value)}")
        return value
    if isinstance(value, (list, tuple)):
        for v in value:
            check_plain(key, v, depth + 1)
        return value
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, (str, int)):
                raise ValueError(f"stream param {key!r} has a non-string key {short(k)}")
            check_plain(key, v, depth + 1)
        return value
    raise ValueError(f"stream param {key!r} cannot be sent to other processes: {short(value)} "
                     f"({type(value).__name__}; use plain numbers, strings, lists, dicts or arrays)")


def did_you_mean(value: Any, known: Any, cutoff: float = 0.6) -> str:
    """`` (did you mean 'NAME'?)`` for the known name closest to ``value`` (difflib), else ''."""
    if not isinstance(value, str) or len(value) > 200:
        return ""
    close = difflib.get_close_matches(value, [str(k) for k in known], n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


def one_of(*allowed: str, none_ok: bool = False) -> Callable[[str, Any], Any]:
    """Check: a string among ``allowed`` (or None if ``none_ok``)."""
    def check(key: str, value: Any) -> Any:
        if value is None and none_ok:
            return None
        if not isinstance(value, str) or value not in allowed:
            raise ValueError(f"{key}={short(value)} is not one of {', '.join(allowed)}"
                             f"{' or None' if none_ok else ''}{did_you_mean(value, allowed)}")
        return value
    return check


def positive_int_or_none(key: str, value: Any) -> int | None:
    """Check: None or an int >= 1."""
    if value is not None and (not _is_int(value) or value < 1):
        raise ValueError(f"{key} must be a positive int or None, got {short(value)}")
    return None if value is None else int(value)


def refusal(key: str, what: str, value: Any) -> str:
    """``"<key> must be <what>, got <value>"``: the one wording of a refused value (for a
    message that is collected or printed rather than raised)."""
    return f"{key} must be {what}, got {short(value)}"


def must_be(key: str, what: str, value: Any, error: type[Exception] = ValueError) -> NoReturn:
    """Raise ``error(refusal(key, what, value))``, for the checks that have no function of
    their own here."""
    raise error(refusal(key, what, value))


def _number(key: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)) or \
            isinstance(value, np.complexfloating):
        must_be(key, "a number", value)
    try:
        return float(value)
    except OverflowError:             # an int past float's range
        return math.inf if value > 0 else -math.inf


def positive_number(key: str, value: Any, unit: str = "", inf_ok: bool = False) -> float:
    """Check: a finite number > 0 (``inf_ok``: or inf), as a float; ``unit`` (" s", " Hz")
    is named in the message."""
    v = _number(key, value)
    if not (v > 0 and (math.isfinite(v) or inf_ok)):
        raise ValueError(f"{key} must be > 0{unit}{'' if inf_ok else ' and finite'}, got {short(value)}")
    return v


def non_negative_number(key: str, value: Any, unit: str = "") -> float:
    """Check: a finite number >= 0, as a float."""
    v = _number(key, value)
    if not (v >= 0 and math.isfinite(v)):
        raise ValueError(f"{key} must be >= 0{unit} and finite, got {short(value)}")
    return v


def finite_number(key: str, value: Any, unit: str = "") -> float:
    """Check: a finite number, as a float."""
    v = _number(key, value)
    if not math.isfinite(v):
        raise ValueError(f"{key} must be a finite number{unit}, got {short(value)}")
    return v


def int_in(key: str, value: Any, low: int = 1, high: int | None = None) -> int:
    """Check: an int (not a bool) >= ``low`` and, if given, <= ``high``."""
    if not _is_int(value) or value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"in {low}..{high}"
        raise ValueError(f"{key} must be an int {bounds}, got {short(value)}")
    return int(value)


def non_empty_str(key: str, value: Any) -> str:
    """Check: a str with at least one character."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty str, got {short(value)}")
    return value


def a_callable(key: str, value: Any, what: str = "") -> Callable[..., Any]:
    """Check: a callable (``what`` says what it is called with); TypeError otherwise."""
    if not callable(value):
        raise TypeError(f"{key} must be a callable{what}, got {short(value)}")
    return value


def less_than(key: str, value: Any, other_key: str, other: Any) -> None:
    """Check: ``value < other`` (two bounds given in the right order)."""
    if not value < other:
        raise ValueError(f"{key} must be < {other_key}, got {short(value)} and {short(other)}")


def _positive_bytes(key: str, value: Any) -> int:
    return int(positive_number(key, value))


def flag(key: str, value: Any) -> bool:
    """Check: True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{key} must be True or False, got {short(value)}")
    return bool(value)


def _port(key: str, value: Any) -> Any:
    if value == "*":
        return value
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not _is_int(value) or not 0 < int(value) < 65536:
        raise ValueError(f"port must be '*' or an int in 1..65535, got {short(value)}")
    return int(value)


def _interface(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"interface must be a host name or address string, got {short(value)}")
    return value


def _shape_or_none(key: str, value: Any) -> tuple[int, ...] | None:
    return None if value is None else _shape(value, time_axis=True)


def _axisorder(key: str, value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__") or \
            not all(_is_int(a) for a in value):
        raise ValueError(f"axisorder must be a sequence of ints, got {short(value)}")
    return tuple(int(a) for a in value)


def _callables(key: str, value: Any) -> Any:
    return value                      # checked by check_filters where they are applied
