"""msgpack serializer: numpy arrays (zero-copy frames), datetimes, bytes, tuples, proxies.

A message is a list of frames: ``[body, *buffers]``.  Arrays of at least
``LARGE_ARRAY`` bytes travel as extra frames referenced from the body, so they
are neither copied into the body nor out of it.  Values msgpack cannot carry
become proxies served by a local RPC server (see ``EncodeContext``).
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Sequence

import msgpack
import numpy as np

from . import codec
from .errors import SerializationError

__all__ = ["Serializer", "MsgpackSerializer", "LARGE_ARRAY", "EXT", "MAX_EXT_DEPTH",
           "MAX_JSON_DEPTH", "peek_req_id"]

LARGE_ARRAY = 64 * 1024
# Deepest nesting the decoders accept.  msgpack decodes each ext value (tuple, array, ...)
# with a nested C unpacker that takes ~40 KiB of C stack: ~200 nested tuples overflowed an
# 8 MiB stack (SIGSEGV); 32 levels take ~1.3 MiB.  Plain msgpack arrays/maps are limited
# by msgpack itself (1024 levels, iteratively).  JSON: lists/maps, counted before parsing.
MAX_EXT_DEPTH = 32
MAX_JSON_DEPTH = 100

# msgpack ext type codes (documented in docs/rpc.md)
EXT = {
    "ndarray": 1,        # [dtype, shape, order, bytes]
    "ndarray_frame": 2,  # [dtype, shape, order, frame index]
    "tuple": 3,          # packed list
    "datetime": 4,       # ISO 8601 string (+ "#1" when fold=1)
    "date": 5,           # ISO 8601 string
    "time": 6,           # ISO 8601 string (+ "#1" when fold=1)
    "timedelta": 7,      # [days, seconds, microseconds]
    "proxy": 8,          # packed proxy dict
    "scalar": 9,         # [dtype, bytes]: a numpy scalar
    "set": 10,           # packed list
    "frozenset": 11,     # packed list
    "complex": 12,       # [real, imag]
    "ndarray_obj": 13,   # [dtype, shape, flat list of items]: arrays holding Python objects
    "bigint": 14,        # decimal string: an int outside msgpack's 64-bit range
}
_CODE = {v: k for k, v in EXT.items()}


class Serializer:
    """Turns Python values into frames and back; subclasses define one encoding."""

    name: str = ""

    @property
    def type(self) -> str:
        """pyacq's name for ``name``."""
        return self.name

    def dumps(self, obj: Any, server: Any = None) -> list:
        """Frames ``[body, *buffers]`` for ``obj``; unserializable values become proxies
        served by ``server`` (an RPCServer, or a callable returning one, or None)."""
        raise NotImplementedError

    def loads(self, body: bytes, buffers: Sequence = (), errors: list | None = None) -> Any:
        """Decode ``body`` and ``buffers`` (or the frame list ``dumps`` returned); proxy
        resolution problems are appended to ``errors``."""
        raise NotImplementedError

    def peek_req_id(self, body: bytes) -> Any:
        """The request id named by a body that ``loads`` refused, read leniently (or None),
        so that the error reply reaches the waiting caller at once."""
        return None


class MsgpackSerializer(Serializer):
    """The default binary serializer (msgpack with ext types)."""

    name = "msgpack"

    def __init__(self, large_array: int = LARGE_ARRAY):
        self.large_array = large_array

    def dumps(self, obj: Any, server: Any = None) -> list:
        return _Encoder(server, self.large_array).encode(obj)

    def loads(self, body: bytes, buffers: Sequence = (), errors: list | None = None) -> Any:
        if isinstance(body, list):        # the frames dumps() gave
            body, buffers = body[0], body[1:]
        return _Decoder(buffers, errors if errors is not None else []).decode(body)

    def peek_req_id(self, body: bytes) -> Any:
        return peek_req_id(body)


# Encoder and decoder are objects (not closures) so that no reference cycle keeps
# array buffers alive until the garbage collector runs.
class _Encoder:
    __slots__ = ("ctx", "large", "frames")

    def __init__(self, server: Any, large: int):
        self.ctx = codec.EncodeContext(server)
        self.large = large
        self.frames: list = [None]

    def encode(self, obj: Any) -> list:
        try:
            try:
                self.frames[0] = self.pack(obj)
            except OverflowError:          # rare: ints beyond 64 bits; wrap them and retry
                del self.frames[1:]
                self.frames[0] = self.pack(_wrap_bigints(obj))
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise SerializationError(f"cannot serialize with msgpack: {exc}") from exc
        return self.frames

    def pack(self, value: Any) -> bytes:
        return msgpack.packb(value, default=self.default, use_bin_type=True, strict_types=True,
                             datetime=False)

    def default(self, o: Any) -> Any:
        pack = self.pack
        if type(o) is _BigInt:
            return msgpack.ExtType(14, str(o.value).encode())
        if isinstance(o, tuple):
            return msgpack.ExtType(3, pack(list(o)))
        if isinstance(o, np.ndarray):
            return self.encode_array(o)
        if isinstance(o, np.generic):
            if o.dtype.hasobject:
                return self.default(o.item())
            return msgpack.ExtType(9, pack([codec.dtype_spec(o.dtype), o.tobytes()]))
        if isinstance(o, bool):
            return bool(o)
        if isinstance(o, int):
            return int(o)
        if isinstance(o, float):
            return float(o)
        if isinstance(o, str):
            return str.__str__(o)
        if isinstance(o, (bytes, bytearray, memoryview)):
            return bytes(o)
        if isinstance(o, dict):
            return dict(o)
        if isinstance(o, list):
            return list(o)
        if isinstance(o, _dt.datetime):
            return msgpack.ExtType(4, (o.isoformat() + ("#1" if o.fold else "")).encode())
        if isinstance(o, _dt.date):
            return msgpack.ExtType(5, o.isoformat().encode())
        if isinstance(o, _dt.time):
            return msgpack.ExtType(6, (o.isoformat() + ("#1" if o.fold else "")).encode())
        if isinstance(o, _dt.timedelta):
            return msgpack.ExtType(7, pack([o.days, o.seconds, o.microseconds]))
        if isinstance(o, frozenset):
            return msgpack.ExtType(11, pack(list(o)))
        if isinstance(o, set):
            return msgpack.ExtType(10, pack(list(o)))
        if isinstance(o, complex):
            return msgpack.ExtType(12, pack([o.real, o.imag]))
        return msgpack.ExtType(8, pack(self.ctx.proxy_wire(o)))

    def encode_array(self, a: np.ndarray) -> msgpack.ExtType:
        a = np.asarray(a)
        spec = codec.dtype_spec(a.dtype)
        shape = list(a.shape)
        if a.dtype.hasobject:
            return msgpack.ExtType(13, self.pack([spec, shape, a.reshape(-1).tolist()]))
        order = "C"
        if not a.flags.c_contiguous:
            if a.flags.f_contiguous and a.ndim > 1:
                a, order = a.T, "F"
            else:
                a = np.ascontiguousarray(a)
        raw = a.reshape(-1).view(np.uint8) if a.dtype.itemsize else b""
        if a.nbytes >= self.large:
            self.frames.append(raw)
            return msgpack.ExtType(2, self.pack([spec, shape, order, len(self.frames) - 1]))
        return msgpack.ExtType(1, self.pack([spec, shape, order, bytes(raw)]))


class _Decoder:
    __slots__ = ("buffers", "errors", "depth")

    def __init__(self, buffers: Sequence, errors: list):
        self.buffers = buffers
        self.errors = errors
        self.depth = 0

    def decode(self, body: Any) -> Any:
        try:
            return self.unpack(body)
        except SerializationError:
            raise
        except Exception as exc:
            if isinstance(exc, msgpack.StackError):
                raise SerializationError("malformed msgpack message: arrays/maps nested "
                                         "deeper than msgpack's limit") from exc
            raise SerializationError(f"malformed msgpack message: {type(exc).__name__}: {exc}") \
                from exc

    def unpack(self, data: Any) -> Any:
        return msgpack.unpackb(data, ext_hook=self.ext_hook, raw=False, strict_map_key=False,
                               use_list=True)

    def ext_hook(self, code: int, data: bytes) -> Any:
        if self.depth >= MAX_EXT_DEPTH:
            raise SerializationError(f"message nests extension values (tuples, arrays, sets, "
                                     f"...) more than {MAX_EXT_DEPTH} levels deep")
        self.depth += 1
        try:
            return self._ext(code, data)
        finally:
            self.depth -= 1

    def _ext(self, code: int, data: bytes) -> Any:
        unpack = self.unpack
        kind = _CODE.get(code)
        if kind is None:
            raise SerializationError(f"unknown msgpack ext type {code}")
        if kind == "tuple":
            return tuple(_as_list(unpack(data)))
        if kind in ("ndarray", "ndarray_frame"):
            spec, shape, order, payload = _fields(unpack(data), 4, kind)
            if kind == "ndarray_frame":
                if type(payload) is not int or not 0 < payload <= len(self.buffers):
                    raise SerializationError(f"array refers to missing frame {payload!r}")
                return codec.array_from_buffer(spec, shape, order, self.buffers[payload - 1],
                                               copy=False)
            return codec.array_from_buffer(spec, shape, order, payload, copy=True)
        if kind == "ndarray_obj":
            spec, shape, items = _fields(unpack(data), 3, kind)
            return codec.object_array(spec, shape, items)
        if kind == "scalar":
            spec, raw = _fields(unpack(data), 2, kind)
            return codec.scalar_from_bytes(spec, raw)
        if kind == "datetime":
            return codec.from_iso(_dt.datetime, data.decode())
        if kind == "date":
            return _dt.date.fromisoformat(data.decode())
        if kind == "time":
            return codec.from_iso(_dt.time, data.decode())
        if kind == "timedelta":
            d, s, us = _fields(unpack(data), 3, kind)
            return _dt.timedelta(days=d, seconds=s, microseconds=us)
        if kind == "set":
            return set(_as_list(unpack(data)))
        if kind == "frozenset":
            return frozenset(_as_list(unpack(data)))
        if kind == "complex":
            re, im = _fields(unpack(data), 2, kind)
            return complex(re, im)
        if kind == "bigint":
            if len(data) > 4300:
                raise SerializationError("bigint too long")
            return int(data.decode("ascii"))
        return codec.proxy_from_wire(unpack(data), self.errors)


def _skip_ext(code: int, data: bytes) -> None:
    return None


def peek_req_id(body: Any) -> Any:
    """The top-level ``req_id`` of a msgpack request that cannot be decoded, read leniently
    (ext values are not decoded, a truncated map is read as far as it goes); None if absent."""
    try:
        unpacker = msgpack.Unpacker(ext_hook=_skip_ext, raw=False, strict_map_key=False,
                                    max_buffer_size=max(len(body), 1))
        unpacker.feed(body)
        for _ in range(unpacker.read_map_header()):
            key = unpacker.unpack()
            if key == "req_id":
                return _simple_id(unpacker.unpack())
            unpacker.skip()
    except Exception:
        pass
    return None


def _simple_id(value: Any) -> Any:
    """``value`` if it can be a request id (an int or a short string), else None."""
    if type(value) is int or (type(value) is str and len(value) <= 256):
        return value
    return None


class _BigInt:
    __slots__ = ("value",)

    def __init__(self, value: int):
        self.value = value


def _wrap_bigints(o: Any) -> Any:
    """Copy of ``o`` with ints outside the 64-bit range wrapped for the bigint ext type."""
    if isinstance(o, int) and not isinstance(o, bool):
        return _BigInt(int(o)) if not -2**63 <= o < 2**64 else o
    if isinstance(o, tuple):
        return tuple(_wrap_bigints(v) for v in o)
    if isinstance(o, list):
        return [_wrap_bigints(v) for v in o]
    if isinstance(o, dict):
        return {_wrap_bigints(k): _wrap_bigints(v) for k, v in o.items()}
    if isinstance(o, (set, frozenset)):
        return type(o)(_wrap_bigints(v) for v in o)
    return o


def _as_list(value: Any) -> list:
    if not isinstance(value, list):
        raise SerializationError(f"expected a list in an ext payload, got {type(value).__name__}")
    return value


def _fields(value: Any, n: int, kind: str) -> list:
    if not isinstance(value, list) or len(value) != n:
        raise SerializationError(f"malformed {kind} payload")
    return value

