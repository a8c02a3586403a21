"""manifest.json: what a recording holds (streams, state, settings), as plain JSON."""
from __future__ import annotations

import json
import time
import uuid as _uuid
from typing import Any

import numpy as np

from acqflow.dataflow.spec import dtype_to_spec, make_dtype, normalize_params

from .errors import NotARecordingError

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "INDEX", "SEGMENTS", "segment_name",
           "segment_number", "DEFAULT_CLOCK", "stream_entry", "new_manifest", "dumps",
           "loads", "stream_dtype", "stream_shape", "same_stream", "stream_params"]

FORMAT = "acqflow-recording"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
INDEX = "index.afidx"
SEGMENTS = "segments"
SEGMENT_SUFFIX = ".afseg"

# Keys of stream params that describe transport, not the data: never stored.
_TRANSPORT_KEYS = {"protocol", "interface", "port", "transfermode", "buffer_size", "double",
                   "axisorder", "chunksize", "backpressure", "hwm", "filters", "shm_nonce",
                   "clock_id", "stream_id", "max_queue_bytes", "max_queue_s"}
_CORE_KEYS = {"streamtype", "dtype", "shape", "sample_rate", "units", "channel_info", "clock"}

DEFAULT_CLOCK: dict[str, Any] = {
    "source": "acqflow.dataflow.clock.now", "kind": "wallclock", "unit": "s", "epoch": "unix",
    "timestamp": "chunk timestamp is the time of the chunk's last sample",
}


def segment_name(number: int) -> str:
    """Relative path of segment file ``number``."""
    return f"{SEGMENTS}/{number:06d}{SEGMENT_SUFFIX}"


def segment_number(name: str) -> int | None:
    """Inverse of :func:`segment_name` on a bare or relative file name (None if not one)."""
    base = name.rsplit("/", 1)[-1]
    if not base.endswith(SEGMENT_SUFFIX):
        return None
    stem = base[:-len(SEGMENT_SUFFIX)]
    return int(stem) if stem.isdigit() else None


def _jsonable(key: str, value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, tuple):
        value = list(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise TypeError(f"stream metadata {key!r}={value!r} is not JSON-serialisable") from None
    return value


def stream_entry(sid: int, name: str, params: dict[str, Any],
                 codec: dict[str, Any] | None = None) -> dict[str, Any]:
    """Manifest entry of one stream from acqflow stream params (transport keys dropped)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"stream name must be a non-empty str, got {name!r}")
    p = normalize_params({k: v for k, v in params.items() if k != "filters"})
    entry: dict[str, Any] = {
        "id": sid, "name": name, "streamtype": p["streamtype"], "dtype": p["dtype"],
        "shape": list(p["shape"]), "sample_rate": p["sample_rate"],
        "units": _jsonable("units", p.get("units", "")),
        "channel_info": _jsonable("channel_info", p.get("channel_info")),
        "clock": _jsonable("clock", p.get("clock", DEFAULT_CLOCK)),
        "codec": codec, "deleted": False,
        "metadata": {k: _jsonable(k, v) for k, v in p.items()
                     if k not in _TRANSPORT_KEYS and k not in _CORE_KEYS},
    }
    return entry


def same_stream(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when two entries describe the same data (for mode='append')."""
    return (a["streamtype"] == b["streamtype"] and stream_dtype(a) == stream_dtype(b)
            and list(a["shape"]) == list(b["shape"]) and a["sample_rate"] == b["sample_rate"]
            and a.get("codec") == b.get("codec"))


def stream_dtype(entry: dict[str, Any]) -> np.dtype:
    """numpy dtype of a manifest stream entry."""
    return make_dtype(entry["dtype"])


def stream_shape(entry: dict[str, Any]) -> tuple[int, ...]:
    """Shape of a manifest stream entry (first axis -1)."""
    return tuple(int(v) for v in entry["shape"])


def new_manifest(settings: dict[str, Any], metadata: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    """A fresh manifest in state 'open' with no streams yet."""
    return {
        "format": FORMAT, "version": FORMAT_VERSION, "uuid": _uuid.uuid4().hex,
        "state": "open", "created": time.time(), "closed": None,
        "layout": {"segments": f"{SEGMENTS}/NNNNNN{SEGMENT_SUFFIX}", "index": INDEX,
                   "interleaved": True},
        "clock": DEFAULT_CLOCK, "writer": settings,
        "metadata": {k: _jsonable(k, v) for k, v in (metadata or {}).items()},
        "streams": [], "stats": {},
    }


def dumps(manifest: dict[str, Any]) -> bytes:
    """Serialise a manifest (UTF-8 JSON)."""
    return json.dumps(manifest, indent=1, sort_keys=False).encode()


def loads(data: bytes, where: str = "") -> dict[str, Any]:
    """Parse and check a manifest; NotARecordingError when it is not one."""
    try:
        m = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotARecordingError(f"{where}: manifest.json is not valid JSON ({exc})") from None
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise NotARecordingError(f"{where}: not an acqflow recording manifest")
    if m.get("version") != FORMAT_VERSION:
        raise NotARecordingError(f"{where}: unsupported recording version {m.get('version')!r}")
    return m


def stream_params(entry: dict[str, Any]) -> dict[str, Any]:
    """acqflow stream params equivalent to a stored stream (for a Player's output)."""
    p = {k: entry[k] for k in ("streamtype", "sample_rate", "units", "channel_info", "clock")}
    p["dtype"] = dtype_to_spec(stream_dtype(entry))
    p["shape"] = stream_shape(entry)
    p.update(entry.get("metadata") or {})
    return p
