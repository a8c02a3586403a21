"""The wire format of a stream message.

A data message is two ZeroMQ frames: a header and the raw C-contiguous array
buffer (sent without copying).  The header is ``b'M' + kind`` followed by a
msgpack array ``[seq, index, nsamples, send_time, dtype, shape]``:

- kind ``D`` carries data in the second frame; ``S`` says that samples up to
  ``index`` are in the output's shared-memory ring; ``X`` says the output closed.
- ``seq`` counts messages (a jump means messages were dropped), ``index`` is the
  absolute sample count after this chunk, ``send_time`` is :func:`clock.now`.
- ``dtype``/``shape`` let the receiver check the payload against its params.

Inputs subscribe to ``b'M'`` and to a private ``b'A' + token`` topic; the output
answers that topic once the subscription is live.  On end-of-stream an input
subscribes to ``b'Z' + token``: the output's acknowledgement that it got it
(see transport.py).
"""
from __future__ import annotations

from typing import NamedTuple

import msgpack

__all__ = ["Header", "DATA", "SHARED", "CLOSED", "TOPIC", "ACK", "CLOSE_ACK", "pack_header",
           "unpack_header"]

TOPIC = b"M"
ACK = b"A"
CLOSE_ACK = b"Z"
DATA, SHARED, CLOSED = b"D", b"S", b"X"
_KINDS = (DATA, SHARED, CLOSED)


class Header(NamedTuple):
    kind: bytes
    seq: int
    index: int
    nsamples: int
    send_time: float
    dtype: object
    shape: tuple


def pack_header(kind: bytes, seq: int, index: int, nsamples: int, send_time: float,
                dtype, shape, packb=msgpack.packb) -> bytes:
    """Encode a header frame.  A sender may pass its own ``msgpack.Packer().pack``
    as ``packb`` (half the cost of a fresh packer per call; not thread-safe)."""
    return TOPIC + kind + packb([seq, index, nsamples, send_time, dtype, shape])


def unpack_header(raw: bytes) -> Header:
    """Decode a header frame; ValueError for anything that is not one."""
    if len(raw) < 3 or raw[:1] != TOPIC or raw[1:2] not in _KINDS:
        raise ValueError(f"not a stream message header: {raw[:16]!r}")
    try:
        seq, index, n, t, dtype, shape = msgpack.unpackb(raw[2:])
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise ValueError(f"corrupt stream message header: {exc}") from None
    return Header(raw[1:2], seq, index, n, t, dtype, tuple(shape))
