"""Shared Lab Streaming Layer helpers: pylsl import, formats, clocks, stream descriptions.

Used by the LSL inlet/outlet nodes, ``acqflow lsl record`` and the XDF export/import; imports
pylsl only when called (``pip install acqflow[lsl]``).
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import numpy as np

from ..dataflow import clock
from ..storage.xdf import FORMAT_NAMES, channel_info, desc_channels, string_dtype

__all__ = ["pylsl", "LSL_DTYPES", "FORMAT_NAMES", "lsl_format_for", "dtype_for_format",
           "format_name", "clock_offset", "channel_labels", "channel_info", "stream_metadata",
           "string_dtype", "desc_channels"]

# numpy dtype name -> pylsl channel format name
LSL_DTYPES = {"float32": "cf_float32", "float64": "cf_double64", "int8": "cf_int8",
              "int16": "cf_int16", "int32": "cf_int32", "int64": "cf_int64"}


def pylsl() -> ModuleType:
    """pylsl, or ImportError naming the extra (``pip install acqflow[lsl]``)."""
    try:
        return importlib.import_module("pylsl")
    except ImportError as exc:
        raise ImportError(f"LSL needs the 'pylsl' package: pip install acqflow[lsl] ({exc})"
                          ) from exc


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


def format_name(dtype: np.dtype | None) -> str:
    """The XML ``channel_format`` of a numpy dtype (None: 'string')."""
    return "string" if dtype is None else FORMAT_NAMES[np.dtype(dtype).name]


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


def channel_labels(info) -> list[str]:
    """Channel labels from a StreamInfo's <desc><channels>, or ch0, ch1, ..."""
    return [c["name"] for c in channel_info(info.channel_count(), desc_channels(info.as_xml()))]


def stream_metadata(info) -> dict[str, Any]:
    """LSL identity and header of a (full) StreamInfo, as acqflow stream metadata."""
    dtype = dtype_for_format(info.channel_format())
    return dict(lsl_name=info.name(), lsl_type=info.type(), lsl_source_id=info.source_id(),
                lsl_uid=info.uid(), lsl_hostname=info.hostname(),
                lsl_session_id=info.session_id(), lsl_created_at=info.created_at(),
                lsl_version=info.version(), lsl_channel_format=format_name(dtype),
                lsl_channel_count=info.channel_count(), nominal_srate=info.nominal_srate(),
                irregular_rate=info.nominal_srate() == 0, lsl_info_xml=info.as_xml())
