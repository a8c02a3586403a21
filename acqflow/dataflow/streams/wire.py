"""The wire format of a stream message.

A data message is two ZeroMQ frames: a header and the raw C-contiguous array
buffer (sent without copying).  The header is ``b'M' + kind`` followed by a
msgpack array ``[seq, index, nsamples, send_time, dtype, shape]``, with a 7th item
``sample_time`` when the sender gave the chunk a time of its own:

- kind ``D`` carries data in the second frame; ``S`` says that samples up to
  ``index`` are in the output's shared-memory ring; ``X`` says the output closed
  (``index`` is the last index sent); ``H`` is a heartbeat sent while the output is
  idle: ``seq``/``index`` of the last data message, so an input learns of messages
  it lost even when nothing follows them.
- ``seq`` counts data messages (a jump means messages were dropped), ``index`` is
  the absolute sample count after this chunk, ``send_time`` is :func:`clock.now`
  at publication (latency, staleness); ``sample_time`` (same clock) is when the
  chunk's last sample was taken, absent when that is the send time.
- ``dtype``/``shape`` let the receiver check the payload against its params.

Inputs subscribe to ``b'M'`` and to a private ``b'A' + token + proof + topic``
(the proof of the output's stream key, see transport.py); the output answers that
topic once the subscription is live, appending its position (msgpack ``[seq, index]``)
and identity.  On end-of-stream an input subscribes to
``b'Z' + token``: the output's acknowledgement that it got it (see transport.py).

:func:`unpack_header` validates types and ranges (one-line :class:`MalformedMessage`
naming the problem); the input checks the rest against its own state.
"""
from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import msgpack

from ..errors import MalformedMessage

__all__ = ["Header", "new_header", "DATA", "SHARED", "CLOSED", "HEARTBEAT", "TOPIC", "ACK", "CLOSE_ACK",
           "pack_header", "unpack_header", "pack_position", "unpack_position"]

TOPIC = b"M"
ACK = b"A"
CLOSE_ACK = b"Z"
DATA, SHARED, CLOSED, HEARTBEAT = b"D", b"S", b"X", b"H"
_KINDS = (DATA, SHARED, CLOSED, HEARTBEAT)
_MAX_HEADER = 4096        # bytes: a real header is < 200 (a long structured dtype a few hundred)
_INT_MAX = 1 << 62


class Header(NamedTuple):
    kind: bytes
    seq: int
    index: int       # type: ignore[assignment]  # the sample index, shadowing tuple.index on purpose
    nsamples: int
    send_time: float
    dtype: object
    shape: tuple
    sample_time: float | None = None     # when the last sample was taken (None: send_time)


def new_header(fields: tuple) -> Header:
    """A Header from all 8 fields in order, without the keyword-handling constructor (a
    third of its cost: one is made per chunk)."""
    return _tuple_new(Header, fields)


_tuple_new = tuple.__new__


def pack_header(kind: bytes, seq: int, index: int, nsamples: int, send_time: float,
                dtype: Any, shape: Any, packb: Callable[[Any], bytes] = msgpack.packb,
                sample_time: float | None = None) -> bytes:
    """Encode a header frame.  A sender may pass its own ``msgpack.Packer().pack``
    as ``packb`` (half the cost of a fresh packer per call; not thread-safe)."""
    if sample_time is None:
        return TOPIC + kind + packb([seq, index, nsamples, send_time, dtype, shape])
    return TOPIC + kind + packb([seq, index, nsamples, send_time, dtype, shape, sample_time])


def _bad(raw: bytes, problem: str) -> MalformedMessage:
    return MalformedMessage(f"malformed stream message ({problem}): {raw[:24]!r}")


def unpack_header(raw: bytes) -> Header:
    """Decode and type-check a header frame; MalformedMessage naming the problem."""
    if len(raw) < 3 or raw[:1] != TOPIC or raw[1:2] not in _KINDS:
        raise _bad(raw, "not a stream message header")
    if len(raw) > _MAX_HEADER:
        raise _bad(raw, f"header of {len(raw)} bytes")
    try:
        fields = msgpack.unpackb(raw[2:])
    except Exception as exc:              # msgpack raises several types for damaged input
        raise _bad(raw, f"undecodable header: {type(exc).__name__}") from None
    if type(fields) is not list or not 6 <= len(fields) <= 7:
        raise _bad(raw, "header is not a 6-item array (7 with a sample time)")
    seq, index, n, t, dtype, shape = fields[:6]
    st = fields[6] if len(fields) == 7 else None
    # type() checks: bool is an int subclass, floats are not indexes
    if type(seq) is not int or type(index) is not int or type(n) is not int:
        raise _bad(raw, f"seq/index/nsamples must be ints, got {seq!r}/{index!r}/{n!r}")
    if not (0 <= seq < _INT_MAX and 0 <= n <= index < _INT_MAX):
        raise _bad(raw, f"seq={seq} index={index} nsamples={n} out of range")
    if type(t) is not float and type(t) is not int:
        raise _bad(raw, f"send_time must be a number, got {t!r}")
    if len(fields) == 7 and ((type(st) is not float and type(st) is not int) or not math.isfinite(st)):
        raise _bad(raw, f"sample_time must be a finite number, got {st!r}")
    if type(shape) is not list:
        raise _bad(raw, f"shape must be a list of ints >= 0, got {shape!r}")
    for v in shape:      # (a loop: a third of all()'s cost on the per-chunk path)
        if type(v) is not int or v < 0:
            raise _bad(raw, f"shape must be a list of ints >= 0, got {shape!r}")
    return new_header((raw[1:2], seq, index, n, t, dtype, tuple(shape), st))


def pack_position(seq: int, index: int, stream_id: str | None) -> bytes:
    """Suffix of the output's subscription answer: where the stream stands."""
    return msgpack.packb([seq, index, stream_id])


def unpack_position(raw: bytes) -> tuple[int, int, str | None] | None:
    """Inverse of :func:`pack_position`; None when absent or unreadable."""
    if not raw:
        return None
    try:
        seq, index, sid = msgpack.unpackb(raw)
    except Exception:
        return None
    if type(seq) is not int or type(index) is not int or (sid is not None and type(sid) is not str):
        return None
    return seq, index, sid
