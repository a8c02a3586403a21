"""Shared Lab Streaming Layer helpers: pylsl import, formats, clocks, stream descriptions.

Used by the LSL inlet/outlet nodes, ``acqflow lsl record`` and the XDF export/import; imports
pylsl only when called (``pip install acqflow[lsl]``).
"""
from __future__ import annotations

import importlib
import os
import re
from types import ModuleType
from typing import Any

import numpy as np

from ..dataflow.streams import clock
from ..storage.xdf import FORMAT_NAMES, channel_info, desc_channels, string_dtype

__all__ = ["pylsl", "LSL_DTYPES", "FORMAT_NAMES", "lsl_format_for", "dtype_for_format",
           "format_name", "clock_offset", "channel_labels", "channel_info", "stream_metadata",
           "string_dtype", "desc_channels", "visible_streams"]

# numpy dtype name -> pylsl channel format name
LSL_DTYPES = {"float32": "cf_float32", "float64": "cf_double64", "int8": "cf_int8",
              "int16": "cf_int16", "int32": "cf_int32", "int64": "cf_int64"}


_CONFIGURED = False
# liblsl's own config search (lsl_api.cfg), used only to keep a user's settings when quieting it
_CFG_PATHS = ("lsl_api.cfg", "~/lsl_api/lsl_api.cfg", "/etc/lsl_api/lsl_api.cfg")


def _quiet_liblsl(lsl: ModuleType) -> None:
    """Keep liblsl's INFO lines off stderr (where a spawner forwards them as WARNING).

    Adds ``[log] level = -1`` (warnings and errors) to the config liblsl would load, unless
    that config has a ``[log]`` section or ``ACQFLOW_LSL_LOG=info``; effective only before
    liblsl's first use in this process.
    """
    global _CONFIGURED
    if _CONFIGURED or os.environ.get("ACQFLOW_LSL_LOG", "").lower() == "info":
        return
    _CONFIGURED = True
    path = os.environ.get("LSLAPICFG") or next(
        (p for p in map(os.path.expanduser, _CFG_PATHS) if os.path.isfile(p)), None)
    text = ""
    if path:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return                                   # let liblsl report its own problem
    if re.search(r"^\s*\[log\]", text, re.M | re.I):
        return
    try:
        lsl.set_config_content(text + "\n[log]\nlevel = -1\n")
    except Exception:   # pragma: no cover - old liblsl without config content
        pass


def pylsl() -> ModuleType:
    """pylsl, or ImportError naming the extra (``pip install acqflow[lsl]``)."""
    try:
        lsl = importlib.import_module("pylsl")
    except ImportError as exc:
        raise ImportError(f"LSL bridge needs the 'pylsl' package: pip install acqflow[lsl] ({exc})"
                          ) from exc
    _quiet_liblsl(lsl)
    return lsl


def visible_streams(wait: float = 1.0) -> list[dict[str, Any]]:
    """Summaries (name, type, source_id, hostname, channels, rate, format, uid) of the LSL
    streams answering within ``wait`` s."""
    lsl = pylsl()
    return [dict(name=i.name(), type=i.type(), source_id=i.source_id(), hostname=i.hostname(),
                 channels=i.channel_count(), rate=i.nominal_srate(),
                 format=format_name(dtype_for_format(i.channel_format())), uid=i.uid())
            for i in lsl.resolve_streams(wait_time=wait)]


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
    assert best is not None
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
