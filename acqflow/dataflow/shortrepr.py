"""short_repr: a bounded repr for error messages, so a bad 10 MB value is not echoed whole."""
from __future__ import annotations

import reprlib
from typing import Any

__all__ = ["short_repr"]

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 8
_REPR.maxlevel = 2
LIMIT = 200


def short_repr(value: Any, limit: int = LIMIT) -> str:
    """``repr(value)`` cut to about 60 characters per string, 8 items per container,
    2 levels of nesting and ``limit`` characters in all (the one bounded repr of acqflow)."""
    try:
        text = _REPR.repr(value)
    except Exception:             # noqa: BLE001 - a broken __repr__ still gets a name
        return f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:max(limit - 3, 0)] + "..."
