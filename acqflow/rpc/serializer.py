"""msgpack serializer: numpy arrays (zero-copy frames), datetimes, bytes, tuples, proxies.

A message is a list of frames: ``[body, *buffers]``.  Arrays of at least
``LARGE_ARRAY`` bytes travel as extra frames referenced from the body, so they
are neither copied into the body nor out of it.  Values msgpack cannot carry
become proxies served by a local RPC server (see ``EncodeContext``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgpack
import numpy as np

from ..dataflow.plain import to_plain
from ..dataflow.stats import Stats
from . import codec, types
from .errors import SerializationError
from .proxy import PROXY_HOOKS

__all__ = ["Serializer", "MsgpackSerializer", "LARGE_ARRAY", "EXT", "MAX_EXT_DEPTH",
           "MAX_JSON_DEPTH", "peek_req_id"]

LARGE_ARRAY = 64 * 1024
# Deepest nesting the decoders accept.  msgpack decodes each ext value (tuple, array, ...)
# with a nested C unpacker that takes ~40 KiB of C stack: ~200 nested tuples overflowed an
# 8 MiB stack (SIGSEGV); 32 levels take ~1.3 MiB.  Plain msgpack arrays/maps are limited
# by msgpack itself (1024 levels, iteratively).  JSON: lists/maps, counted before parsing.
MAX_EXT_DEPTH = 32
MAX_JSON_DEPTH = 100

# msgpack ext type codes by name (the table is types.py; documented in docs/rpc.md)
EXT = {t.name: t.code for t in types.TYPES if t.code is not None}
EXT.update(ndarray_frame=types.FRAME_CODE, proxy=types.PROXY_CODE)


class Serializer:
    """Turns Python values into frames and back; subclasses define one encoding."""

    name: str = ""

    def __init__(self, proxy_hooks: types.ProxyHooks | None = None):
        self._proxy_hooks = proxy_hooks

    @property
    def proxy_hooks(self) -> types.ProxyHooks:
        """How this serializer makes and resolves proxies (proxy.py's by default)."""
        return self._proxy_hooks or PROXY_HOOKS

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

    def __init__(self, large_array: int = LARGE_ARRAY,
                 proxy_hooks: types.ProxyHooks | None = None):
        super().__init__(proxy_hooks)
        self.large_array = large_array

    def dumps(self, obj: Any, server: Any = None) -> list:
        return _Encoder(server, self.large_array, self.proxy_hooks).encode(obj)

    def loads(self, body: Any, buffers: Sequence = (), errors: list | None = None) -> Any:
        if isinstance(body, list):        # the frames dumps() gave
            body, buffers = body[0], body[1:]
        return _Decoder(buffers, errors if errors is not None else [],
                        self.proxy_hooks).decode(body)

    def peek_req_id(self, body: bytes) -> Any:
        return peek_req_id(body)


# Encoder and decoder are objects (not closures) so that no reference cycle keeps
# array buffers alive until the garbage collector runs.
class _Encoder:
    __slots__ = ("server", "hooks", "large", "frames")

    def __init__(self, server: Any, large: int, hooks: types.ProxyHooks):
        self.server = server
        self.hooks = hooks
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
        # called for what msgpack does not pack itself (strict_types: subclasses too)
        t = types.for_value(o, True)
        if t is not None:
            if t.code == 1 and o.nbytes >= self.large:   # big array: zero-copy frame
                spec, shape, order, raw = codec.array_fields(o)
                self.frames.append(raw)
                return msgpack.ExtType(types.FRAME_CODE, self.pack(
                    [spec, shape, order, len(self.frames) - 1]))
            fields = t.encode(o)
            if t.raw:
                return msgpack.ExtType(t.code, fields[0].encode())
            return msgpack.ExtType(t.code, self.pack(fields[0] if len(fields) == 1
                                                     else list(fields)))
        if isinstance(o, (bool, int, float, str, bytes, bytearray, memoryview, dict, list)):
            return to_plain(o, deep=False)
        if isinstance(o, np.generic):     # holding a Python object
            return o.item()
        if isinstance(o, Stats):          # stats travel by value, as their plain dict
            return o.as_dict()
        return msgpack.ExtType(types.PROXY_CODE, self.pack(self.hooks.to_wire(o, self.server)))


class _Decoder:
    __slots__ = ("buffers", "errors", "hooks", "depth")

    def __init__(self, buffers: Sequence, errors: list, hooks: types.ProxyHooks):
        self.buffers = buffers
        self.errors = errors
        self.hooks = hooks
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
        t = types.by_code(code)
        if t is not None:
            if t.raw:
                return t.decode(data.decode())
            value = self.unpack(data)
            fields = [value] if len(t.fields) == 1 else _fields(value, len(t.fields), t.name)
            for name, v in zip(t.fields, fields, strict=True):
                if name in t.list_fields and not isinstance(v, list):
                    raise SerializationError(f"malformed {t.name} payload: {name} is not a list")
            return t.decode(*fields)
        if code == types.FRAME_CODE:
            spec, shape, order, index = _fields(self.unpack(data), 4, "ndarray_frame")
            if type(index) is not int or not 0 < index <= len(self.buffers):
                raise SerializationError(f"array refers to missing frame {index!r}")
            return codec.array_from_buffer(spec, shape, order, self.buffers[index - 1],
                                           copy=False)
        if code == types.PROXY_CODE:
            return self.hooks.from_wire(self.unpack(data), self.errors)
        raise SerializationError(f"unknown msgpack ext type {code}")


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


def _wrap_bigints(o: Any) -> Any:
    """Copy of ``o`` with ints outside the 64-bit range wrapped for the bigint ext type."""
    if isinstance(o, int) and not isinstance(o, bool):
        return types.BigInt(int(o)) if not -2**63 <= o < 2**64 else o
    if isinstance(o, tuple):
        return tuple(_wrap_bigints(v) for v in o)
    if isinstance(o, list):
        return [_wrap_bigints(v) for v in o]
    if isinstance(o, dict):
        return {_wrap_bigints(k): _wrap_bigints(v) for k, v in o.items()}
    if isinstance(o, (set, frozenset)):
        return type(o)(_wrap_bigints(v) for v in o)
    return o


def _fields(value: Any, n: int, kind: str) -> list:
    if not isinstance(value, list) or len(value) != n:
        raise SerializationError(f"malformed {kind} payload")
    return value

