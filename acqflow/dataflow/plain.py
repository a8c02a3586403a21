"""to_plain: a value as plain Python values (exact bool/int/float/str/bytes, list, dict), the
one conversion the serializers, the web monitor's JSON and the manifest share."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["to_plain"]

_EXACT: tuple[type, ...] = (bool, int, float, str, bytes)


def to_plain(value: Any, deep: bool = True, json: bool = False) -> Any:
    """``value`` with subclasses of bool/int/float/str made exact, bytes-likes bytes, numpy
    scalars and arrays Python values and lists, mappings dicts, tuples lists; other objects
    are left as they are.

    ``deep``: containers' items too (else a dict or list is only copied, for an encoder that
    calls back per item).  ``json``: also dict keys as str and non-finite floats as None, as
    strict JSON needs (browsers reject NaN)."""
    kind = type(value)
    if value is None or kind in _EXACT:
        if json and kind is float and not math.isfinite(value):
            return None
        return value
    for base in _EXACT:                       # bool before int: True stays True
        if isinstance(value, base):
            return to_plain(base(value) if base is not str else str.__str__(value), deep, json)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, np.generic):
        return to_plain(value.item(), deep, json)
    if isinstance(value, np.ndarray):
        return to_plain(value.tolist(), deep, json)
    if isinstance(value, Mapping):         # a dict, or a read-only mapping such as a Stats
        if not deep:
            return dict(value)
        return {(str(k) if json else to_plain(k, deep, json)): to_plain(v, deep, json)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v, deep, json) for v in value] if deep else list(value)
    return value
