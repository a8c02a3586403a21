"""LSL helpers for LSLInlet and LSLOutlet: the shared ones from acqflow.lsl.info, and resolving."""
from __future__ import annotations

from ..lsl.info import (LSL_DTYPES, channel_info, channel_labels, clock_offset, desc_channels,
                        dtype_for_format, lsl_format_for, pylsl, stream_metadata)

__all__ = ["pylsl", "LSL_DTYPES", "lsl_format_for", "dtype_for_format", "clock_offset",
           "resolve_stream", "channel_labels", "channel_info", "desc_channels", "stream_metadata"]


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
                           f"see docs/devices/lsl.md)")
    return found[0]
