"""Lab Streaming Layer helpers shared by LSLInlet and LSLOutlet: formats, clocks, resolving."""
from __future__ import annotations

from types import ModuleType

import numpy as np

from ..dataflow import clock
from ._base import require

__all__ = ["pylsl", "LSL_DTYPES", "lsl_format_for", "dtype_for_format", "clock_offset",
           "resolve_stream", "channel_labels"]

# numpy dtype name -> pylsl channel format name
LSL_DTYPES = {"float32": "cf_float32", "float64": "cf_double64", "int8": "cf_int8",
              "int16": "cf_int16", "int32": "cf_int32", "int64": "cf_int64"}


def pylsl() -> ModuleType:
    return require("pylsl", "lsl", "LSL bridge")


def lsl_format_for(dtype: np.dtype) -> int:
    """The pylsl channel format constant carrying ``dtype``; ValueError lists the choices."""
    lsl = pylsl()
    name = LSL_DTYPES.get(np.dtype(dtype).name)
    if name is None:
        raise ValueError(f"LSL cannot carry dtype {np.dtype(dtype)}; supported: "
                         f"{', '.join(LSL_DTYPES)} (convert with StreamConverter)")
    return getattr(lsl, name)


def dtype_for_format(fmt: int) -> np.dtype | None:
    """numpy dtype of an LSL channel format; None for strings."""
    lsl = pylsl()
    for dt, name in LSL_DTYPES.items():
        if getattr(lsl, name) == fmt:
            return np.dtype(dt)
    if fmt == lsl.cf_string:
        return None
    raise ValueError(f"unsupported LSL channel format {fmt!r}")


def clock_offset() -> float:
    """acqflow clock minus LSL ``local_clock()``, read as close together as possible."""
    lsl = pylsl()
    best = None
    for _ in range(3):                    # keep the tightest of three brackets
        a = clock.now()
        mid = lsl.local_clock()
        b = clock.now()
        if best is None or b - a < best[0]:
            best = (b - a, (a + b) / 2 - mid)
    return best[1]


def _quote(value: str) -> str:
    return "'" + str(value).replace("'", "") + "'"


def resolve_stream(name: str | None = None, type: str | None = None, source_id: str | None = None,
                   timeout: float = 5.0):
    """The StreamInfo of the one LSL stream matching all given fields.

    RuntimeError when none answers within ``timeout`` s, listing the visible streams.
    """
    lsl = pylsl()
    terms = [f"{k}={_quote(v)}" for k, v in (("name", name), ("type", type), ("source_id", source_id))
             if v is not None]
    if not terms:
        raise ValueError("give at least one of name, type, source_id to find an LSL stream")
    found = lsl.resolve_bypred(" and ".join(terms), 1, timeout)
    if not found:
        visible = lsl.resolve_streams(wait_time=min(timeout, 1.0))
        names = ", ".join(f"{s.name()!r} (type {s.type()!r}, {s.channel_count()} ch, "
                          f"{s.nominal_srate():g} Hz, source_id {s.source_id()!r})"
                          for s in visible) or "none"
        raise RuntimeError(f"no LSL stream with {' and '.join(terms)} found within {timeout} s; "
                           f"visible streams: {names}. (If discovery fails on this machine, set "
                           f"LSLAPICFG to an lsl_api.cfg with [multicast] ResolveScope = machine; "
                           f"see docs/devices.md)")
    return found[0]


def channel_labels(info) -> list[str]:
    """Channel labels from a StreamInfo's <desc><channels>, or ch0, ch1, ..."""
    n = info.channel_count()
    labels = []
    ch = info.desc().child("channels").child("channel")
    while not ch.empty() and len(labels) < n:
        labels.append(ch.child_value("label") or f"ch{len(labels)}")
        ch = ch.next_sibling()
    return labels + [f"ch{i}" for i in range(len(labels), n)]
