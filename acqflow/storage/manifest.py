"""manifest.json: what a recording holds (streams, state, settings), as plain JSON."""
from __future__ import annotations

import hashlib
import json
import math
import time
import uuid as _uuid
from typing import Any

import numpy as np

from acqflow.dataflow.paramcheck import non_empty_str
from acqflow.dataflow import spec
from acqflow.dataflow.plain import to_plain
from acqflow.dataflow.shortrepr import short_repr
from acqflow.dataflow.spec import DEFAULT_CLOCK, NO_DEFAULT, STREAM, dtype_to_spec, make_dtype

from .errors import DamagedManifestError, NotARecordingError

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "INDEX", "SEGMENTS", "segment_name",
           "segment_number", "DEFAULT_CLOCK", "stream_entry", "new_manifest", "dumps",
           "loads", "manifest_checksum", "check_manifest", "stream_dtype", "stream_shape",
           "same_stream", "stream_params"]

FORMAT = "acqflow-recording"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
INDEX = "index.afidx"
SEGMENTS = "segments"
SEGMENT_SUFFIX = ".afseg"
CHECKSUM = "checksum"      # "sha256:<hex>" of the manifest's canonical JSON without this key
_NOT_REBUILDABLE = ("the streams' names, dtypes (byte order included), shapes and sample rates "
                    "live only in the manifest and cannot be rebuilt from the blocks; restore "
                    "manifest.json from a copy (`acqflow rec verify` lists what the blocks hold)")

# What a stream entry holds is derived from the param table (acqflow.dataflow.spec.PARAMS):
# STREAM params are fields of the entry, the other recorded params go under "metadata",
# transport params are never stored.


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
    value = to_plain(value)
    try:
        json.dumps(value, allow_nan=False)        # NaN/inf would make manifest.json invalid JSON
    except (TypeError, ValueError):
        raise TypeError(f"stream metadata {key!r}={short_repr(value)} is not JSON-serialisable") from None
    return value


def stream_entry(sid: int, name: str, params: dict[str, Any],
                 codec: dict[str, Any] | None = None) -> dict[str, Any]:
    """Manifest entry of one stream from acqflow stream params (transport params dropped)."""
    non_empty_str("stream name", name)
    p = spec.recorded(spec.normalize_params(spec.recorded(params)))
    if p["shape"] is None:
        raise ValueError(f"stream {name!r}: a recorded stream needs a shape, e.g. shape=(-1, 16)")
    entry: dict[str, Any] = {"id": sid, "name": name}
    for key in spec.keys(STREAM):
        entry[key] = _jsonable(key, p[key] if key in p else _stored_default(key))
    entry.update(codec=codec, deleted=False,
                 metadata={k: _jsonable(k, v) for k, v in p.items() if spec.kind_of(k) != STREAM})
    return entry


def _stored_default(key: str) -> Any:
    """What an entry without STREAM param ``key`` (or with None) means."""
    default = spec.PARAMS[key].stored
    return None if default is NO_DEFAULT else default


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


def manifest_checksum(manifest: dict[str, Any]) -> str:
    """'sha256:<hex>' of the canonical JSON of ``manifest`` without its checksum key."""
    body = {k: v for k, v in manifest.items() if k != CHECKSUM}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def dumps(manifest: dict[str, Any]) -> bytes:
    """Serialise a manifest (UTF-8 JSON) with its checksum as the last key."""
    body = {k: v for k, v in manifest.items() if k != CHECKSUM}
    body[CHECKSUM] = manifest_checksum(body)
    return json.dumps(body, indent=1, sort_keys=False, allow_nan=False).encode()


def _damaged(where: str, what: str) -> DamagedManifestError:
    return DamagedManifestError(f"{where}: manifest.json is damaged: {what}; {_NOT_REBUILDABLE}")


def loads(data: bytes, where: str = "") -> dict[str, Any]:
    """Parse and check a manifest: its checksum (recordings written before checksums
    have none and are only checked for structure), format, version and the fields
    readers rely on.  NotARecordingError when it is not one, DamagedManifestError
    (a NotARecordingError) when it is one that was changed or damaged."""
    try:
        m = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotARecordingError(f"{where}: manifest.json is not valid JSON ({exc})") from None
    if not isinstance(m, dict):
        raise NotARecordingError(f"{where}: not an acqflow recording manifest")
    stored = m.pop(CHECKSUM, None)
    if stored is None:
        # a damaged key name would make a new recording look like an old one
        odd = [k for k, v in m.items() if isinstance(v, str) and v.startswith("sha256:")]
        if odd:
            raise _damaged(where, f"unknown key {short_repr(odd[0])} holds the checksum")
    elif stored != manifest_checksum(m):
        raise _damaged(where, f"checksum mismatch (stored {short_repr(stored)}, content gives "
                              f"{manifest_checksum(m)}): some byte of it changed")
    if m.get("format") != FORMAT:
        raise NotARecordingError(f"{where}: not an acqflow recording manifest")
    if m.get("version") != FORMAT_VERSION:
        raise NotARecordingError(f"{where}: unsupported recording version {short_repr(m.get('version'))}")
    check_manifest(m, where)
    return m


def check_manifest(m: dict[str, Any], where: str = "") -> None:
    """DamagedManifestError naming the first field readers cannot use."""
    if not isinstance(m.get("uuid"), str):
        raise _damaged(where, f"uuid is {short_repr(m.get('uuid'))}")
    streams = m.get("streams")
    if not isinstance(streams, list):
        raise _damaged(where, f"streams is {short_repr(streams)}, not a list")
    for k, e in enumerate(streams):
        at = f"streams[{k}]"
        if not isinstance(e, dict):
            raise _damaged(where, f"{at} is {short_repr(e)}, not a mapping")
        missing = [key for key in ("id", "name", "streamtype", "dtype", "shape", "sample_rate")
                   if key not in e]
        if missing:
            raise _damaged(where, f"{at} has no {', '.join(missing)}")
        if not isinstance(e["id"], int) or not isinstance(e["name"], str):
            raise _damaged(where, f"{at}: id {short_repr(e['id'])} / name {short_repr(e['name'])}")
        try:
            make_dtype(e["dtype"])
        except Exception as exc:      # noqa: BLE001 - any failure means the same
            raise _damaged(where, f"{at}.dtype {short_repr(e['dtype'])} is not a dtype ({exc})") from None
        shape = e["shape"]
        if (not isinstance(shape, list) or not shape or shape[0] != -1
                or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape[1:])):
            raise _damaged(where, f"{at}.shape is {short_repr(shape)} (expected [-1, n, ...])")
        rate = e["sample_rate"]
        if rate is not None and (not isinstance(rate, (int, float)) or isinstance(rate, bool)
                                 or not math.isfinite(rate) or rate <= 0):
            raise _damaged(where, f"{at}.sample_rate is {short_repr(rate)}")


def stream_params(entry: dict[str, Any]) -> dict[str, Any]:
    """acqflow stream params equivalent to a stored stream (for a Player's output)."""
    p = {}
    for key in spec.keys(STREAM):
        value = entry.get(key)
        p[key] = _stored_default(key) if value is None else value
    p["dtype"] = dtype_to_spec(stream_dtype(entry))
    p["shape"] = stream_shape(entry)
    p.update(entry.get("metadata") or {})
    return p
