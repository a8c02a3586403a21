"""Stream parameters: the one vocabulary (:data:`PARAMS`), normalisation, validation,
compatibility checks and the dtype codec.

Every param any layer knows by name is declared once in :data:`PARAMS` with its kind;
what a relay's output inherits, what a recording stores (and where), what a player
replays and the defaults are all derived from that table (docs/extending.md,
"Adding a stream param").  Params travel between processes (msgpack/JSON), so they
hold only plain values: dtypes as :func:`dtype_to_spec` gives them, shapes as tuples.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from ..errors import Error
from . import packets
from ..paramcheck import (_axisorder, _callables, _interface, _port, _positive_bytes,
                         _shape, _shape_or_none, check_plain, did_you_mean, flag, one_of,
                         must_be, positive_int_or_none, positive_number, short)

__all__ = [
    "PROTOCOLS", "TRANSFERMODES", "STREAMTYPES", "BACKPRESSURES", "EVENT_DTYPE", "DEFAULT_CLOCK",
    "TRANSPORT", "STREAM", "METADATA", "RECORDING", "NO_DEFAULT", "Param", "PARAMS",
    "kind_of", "keys", "defaults", "inherited_params", "recorded", "replayed",
    "DEFAULT_PARAMS", "dtype_to_spec", "make_dtype", "dtype_from_plain", "DtypeError",
    "default_fill", "normalize_params", "check_param", "check_param_name", "param_problems", "check_compatible",
    "check_filters",
    "describe", "short", "check_plain", "one_of", "positive_int_or_none", "positive_number", "flag",
]

PROTOCOLS = ("tcp", "inproc", "ipc")
TRANSFERMODES = ("plaindata", "sharedmem")
STREAMTYPES = ("analogsignal", "digitalsignal", "event", "video", "packets")
BACKPRESSURES = ("drop", "block")

EVENT_DTYPE = [("index", "int64"), ("label", "S16")]
# The clock of chunk timestamps unless a stream says otherwise (``clock`` param).
DEFAULT_CLOCK: dict[str, Any] = {
    "source": "acqflow.dataflow.streams.clock.now", "kind": "wallclock", "unit": "s", "epoch": "unix",
    "timestamp": "chunk timestamp is the time of the chunk's last sample",
}

# Keys whose values a stream negotiates (check_compatible); the rest is carried along.
_CONTRACT_KEYS = ("streamtype", "dtype", "shape", "transfermode")


# -- the dtype codec: dtype <-> plain (JSON/msgpack-able) value -----------------------

class DtypeError(Error, TypeError, ValueError):
    """Not a dtype (a TypeError, as ``np.dtype`` raises, and a ValueError for bad input)."""


def dtype_to_spec(dtype: Any) -> str | list:
    """Plain-value form of a dtype: ``'<f4'``, or numpy's ``descr`` as nested lists for a
    structured dtype (padding included), so a JSON or msgpack round trip is the identity."""
    dt = make_dtype(dtype)
    if dt.fields is None:
        return dt.str
    return _listify(np.lib.format.dtype_to_descr(dt))


def _listify(descr: Any) -> Any:
    return [_listify(x) for x in descr] if isinstance(descr, (list, tuple)) else descr


def _tuplify(descr: Any) -> list[tuple]:
    """A descr whose tuples became lists on the wire, back in numpy's form."""
    if not isinstance(descr, (list, tuple)):
        raise DtypeError(f"bad dtype description {short(descr)}")
    fields = []
    for field in descr:
        if not isinstance(field, (list, tuple)) or len(field) not in (2, 3):
            raise DtypeError(f"bad dtype field {short(field)}")
        name = tuple(field[0]) if isinstance(field[0], list) else field[0]
        sub = _tuplify(field[1]) if isinstance(field[1], (list, tuple)) else field[1]
        item: tuple = (name, sub)
        if len(field) == 3:
            item += (tuple(field[2]) if isinstance(field[2], list) else field[2],)
        fields.append(item)
    return fields


def dtype_from_plain(value: Any) -> np.dtype:
    """Strict inverse of :func:`dtype_to_spec` for values read off a wire or a file: only a
    dtype string or a descr list is accepted; DtypeError (naming the value) otherwise."""
    if not isinstance(value, (str, list, tuple)):
        raise DtypeError(f"not a dtype string or descr list: {short(value)}")
    try:
        if isinstance(value, str):
            return np.dtype(value)
        return np.lib.format.descr_to_dtype(_tuplify(value))
    except DtypeError:
        raise
    except Exception as exc:          # noqa: BLE001 - numpy raises many kinds on bad input
        raise DtypeError(f"not a valid dtype: {short(value)} ({exc})") from None


def make_dtype(spec: Any) -> np.dtype:
    """A dtype from anything ``np.dtype`` accepts, or from :func:`dtype_to_spec`'s plain form."""
    if isinstance(spec, np.dtype):
        return spec
    if isinstance(spec, (str, list)):
        try:
            return dtype_from_plain(spec)
        except DtypeError:
            if isinstance(spec, str):
                raise
        # a user's field list may hold numpy types or (base, shape) tuples, not descr strings
        spec = [tuple(make_dtype(x) if isinstance(x, list) and i == 1 else
                      (tuple(x) if isinstance(x, list) else x)
                      for i, x in enumerate(item)) if isinstance(item, list) else item
                for item in spec]
    try:
        return np.dtype(spec)
    except Exception as exc:          # noqa: BLE001
        raise DtypeError(f"not a valid dtype: {short(spec)} ({exc})") from None


def default_fill(dtype: Any) -> Any:
    """The value of samples never written (ring buffers, gaps): NaN for floats, 0 otherwise."""
    return np.nan if make_dtype(dtype).kind in "fc" else 0


def _dtype(key: str, value: Any) -> str | list:
    dt = make_dtype(value)
    if dt.hasobject:
        raise ValueError(f"dtype {short(str(dt))} holds Python objects, which cannot be streamed; "
                         f"use fixed-size fields (e.g. 'S16' for labels)")
    return dtype_to_spec(dt)


# -- the table --------------------------------------------------------------------------

TRANSPORT = "transport"   # one output's connection: not inherited, not recorded, not replayed
STREAM = "stream"         # the signal itself: inherited, recorded as a manifest field, replayed
METADATA = "metadata"     # describes the signal: inherited, recorded under "metadata", replayed
RECORDING = "recording"   # set by the recorder: recorded under "metadata" only

# kind -> (inherited by a relay's output, stored by a recording, replayed by a player)
_TRAVEL = {TRANSPORT: (False, False, False), STREAM: (True, True, True),
           METADATA: (True, True, True), RECORDING: (False, True, False)}


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True)
class Param:
    """One stream param: how it travels (``kind``), the ``default`` normalize_params fills in,
    its ``check`` ((key, value) -> normalised value, ValueError naming both) and, for STREAM
    params, the value a recording that holds none means (``stored``)."""

    name: str
    kind: str
    default: Any = NO_DEFAULT
    check: Callable[[str, Any], Any] | None = None    # None: any plain value (check_plain)
    stored: Any = NO_DEFAULT
    doc: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _TRAVEL:
            raise ValueError(f"param {self.name!r}: kind {self.kind!r} is not one of {', '.join(_TRAVEL)}")


# A free metadata name this close (difflib ratio) to a param's is taken for a typo of it,
# but for common metadata names (an LSL stream's ``type``) and the name pyacq's own code
# passes as free metadata (its examples configure outputs with ``transfertmode=``,
# which pyacq ignores too).
TYPO_CUTOFF = 0.85
FREE_NAMES = frozenset({"type", "names", "nodes", "transfertmode"})

# Every stream param known by name.  Keys not in it are free metadata (kind METADATA).
PARAMS: dict[str, Param] = {p.name: p for p in (
    Param("streamtype", STREAM, "analogsignal", one_of(*STREAMTYPES), doc="what the samples are"),
    Param("dtype", STREAM, "float32", _dtype, doc="sample dtype, in dtype_to_spec's plain form"),
    Param("shape", STREAM, None, _shape_or_none, doc="(-1, ...): first axis is time"),
    Param("sample_rate", STREAM, 1.0, positive_number, doc="samples per second"),
    Param("units", STREAM, stored="", doc="physical units of the samples"),
    Param("channel_info", STREAM, stored=None, doc="one dict per channel (name, units, ...)"),
    Param("clock", STREAM, stored=DEFAULT_CLOCK, doc="what the chunk timestamps mean"),
    Param("protocol", TRANSPORT, "ipc", one_of(*PROTOCOLS),
          doc="ipc: a socket in this user's private 0700 directory (any process of this user "
              "on this host); inproc: this process; tcp: opt-in, for other hosts"),
    Param("interface", TRANSPORT, "127.0.0.1", _interface),
    Param("port", TRANSPORT, "*", _port),
    Param("insecure", TRANSPORT, False, flag,
          doc="tcp off loopback without CurveZMQ encryption (still served only to stream_key holders)"),
    Param("transfermode", TRANSPORT, "plaindata", one_of(*TRANSFERMODES)),
    Param("buffer_size", TRANSPORT, None, positive_int_or_none, doc="sharedmem ring, in samples"),
    Param("double", TRANSPORT, False, flag),
    Param("axisorder", TRANSPORT, None, _axisorder),
    Param("chunksize", TRANSPORT, None, positive_int_or_none, doc="minimum samples per chunk sent"),
    Param("backpressure", TRANSPORT, "drop", one_of(*BACKPRESSURES)),
    Param("hwm", TRANSPORT, None, positive_int_or_none, doc="ZeroMQ high-water mark"),
    Param("max_queue_bytes", TRANSPORT, 64 * 1024 * 1024, _positive_bytes),
    Param("max_queue_s", TRANSPORT, 1.0, positive_number),
    Param("filters", TRANSPORT, check=_callables, doc="pre-send callables (never sent)"),
    Param("url", TRANSPORT, doc="set by OutputStream: where to connect"),
    Param("shm_name", TRANSPORT, doc="set by OutputStream: the sharedmem segment"),
    Param("shm_nonce", TRANSPORT, doc="set by OutputStream: the segment's generation"),
    Param("clock_id", TRANSPORT, doc="set by OutputStream: the clock of send times"),
    Param("stream_id", TRANSPORT, doc="set by OutputStream: this output instance"),
    Param("stream_key", TRANSPORT, doc="set by OutputStream: the secret its inputs prove they hold"),
    Param("curve_key", TRANSPORT, doc="set by OutputStream: its CurveZMQ public key (tcp off loopback)"),
    Param("name", TRANSPORT, doc="the output's name"),
    Param("node", TRANSPORT, doc="the output's node"),
    Param("source", RECORDING, doc="set by the recorder: the node and output recorded"),
)}


def kind_of(key: str) -> str:
    """The kind of param ``key`` (free metadata when not in :data:`PARAMS`)."""
    param = PARAMS.get(key)
    return METADATA if param is None else param.kind


def keys(*kinds: str) -> list[str]:
    """Names of the params of ``kinds``, in table order."""
    return [name for name, p in PARAMS.items() if p.kind in kinds]


def defaults() -> dict[str, Any]:
    """A fresh dict of every param with a default (what normalize_params starts from)."""
    return {name: p.default for name, p in PARAMS.items() if p.default is not NO_DEFAULT}


def _travelling(params: Mapping[str, Any], column: int) -> dict[str, Any]:
    return {k: v for k, v in params.items() if _TRAVEL[kind_of(k)][column]}


def inherited_params(params: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """What an output re-sending ``params``' signal keeps of them (transport dropped), updated."""
    out = _travelling(params, 0)
    out.update(overrides)
    return out


def recorded(params: Mapping[str, Any]) -> dict[str, Any]:
    """What a recording stores of stream params (transport dropped)."""
    return _travelling(params, 1)


def replayed(params: Mapping[str, Any]) -> dict[str, Any]:
    """What a player's output takes of stored params (transport and recording-only dropped)."""
    return _travelling(params, 2)


def check_param_name(key: Any) -> None:
    """ValueError for a name that is not a param but is close to one (``transfermod``):
    a misspelt param would otherwise travel silently as free metadata.  Names not
    close to any param stay free metadata."""
    if not isinstance(key, str) or key in PARAMS or key in FREE_NAMES or len(key) > 100:
        return
    hint = did_you_mean(key, PARAMS, cutoff=TYPO_CUTOFF)
    if hint:
        raise ValueError(f"unknown stream param {key!r}{hint}; free metadata needs a name "
                         f"not so close to a param's")


def check_param(key: str, value: Any) -> Any:
    """``value`` normalised by param ``key``'s check (ValueError/TypeError naming both)."""
    check_param_name(key)
    param = PARAMS.get(key)
    check = check_plain if param is None or param.check is None else param.check
    return check(key, value)


def param_problems(params: Mapping[str, Any]) -> list[str]:
    """Every value of ``params`` its check refuses, one line each (check_param's message):
    what can be said of stream params before an output is configured (graph files)."""
    problems = []
    for key, value in params.items():
        try:
            check_param(key, value)
        except (ValueError, TypeError) as exc:
            problems.append(str(exc))
    return problems


class _Defaults(Mapping):
    """Read-only live view of the defaults in :data:`PARAMS`."""

    def __getitem__(self, key: str) -> Any:
        param = PARAMS[key]
        if param.default is NO_DEFAULT:
            raise KeyError(key)
        return param.default

    def __iter__(self) -> Iterator[str]:
        return iter(defaults())

    def __len__(self) -> int:
        return len(defaults())

    def __repr__(self) -> str:
        return f"DEFAULT_PARAMS({defaults()!r})"


DEFAULT_PARAMS: Mapping[str, Any] = _Defaults()


_STREAMTYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    "event": {"dtype": EVENT_DTYPE, "shape": (-1,)},
    "digitalsignal": {"dtype": "uint8"},
    "video": {"dtype": "uint8"},
    "packets": {"dtype": "uint8"},
}


def normalize_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Fill defaults, check values and return plain, wire-safe params.

    Raises ValueError/TypeError naming the offending key and value.
    """
    p = defaults()
    streamtype = params.get("streamtype", p["streamtype"])
    if isinstance(streamtype, str):
        p.update(_STREAMTYPE_DEFAULTS.get(streamtype, {}))
    p.update(params)
    for key in list(p):
        p[key] = check_param(key, p[key])
    _check_contract(p)
    return p


def _check_contract(p: dict[str, Any]) -> None:
    """The checks that involve several params: streamtype against dtype and shape, ..."""
    if p["streamtype"] == packets.STREAMTYPE:
        packets.check_params(p)             # compressed frames of any length (packets.py)
        return
    dt = make_dtype(p["dtype"])
    if p["shape"] is None:
        if p["transfermode"] == "sharedmem":
            raise ValueError("transfermode='sharedmem' needs a shape, e.g. shape=(-1, 16)")
        ndim = {"analogsignal": 2, "event": 1}.get(p["streamtype"])
    else:
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
    order = p["axisorder"]
    if order is not None and sorted(order) != list(range(ndim or len(order))):
        raise ValueError(f"axisorder {short(order)} is not a permutation of the "
                         f"{ndim or len(order)} axes")


def check_filters(filters: Any) -> list:
    """Filters are a list of callables applied to each chunk, in order."""
    if not isinstance(filters, (list, tuple)) or not all(callable(f) for f in filters):
        must_be("filters", "a list of callables", filters, TypeError)
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
