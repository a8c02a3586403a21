"""The cheap path of a request: plain msgpack encoding, and sync calls that wait on their
own socket (documented in docs/rpc.md, "Sync calls").

A sync call normally waits through the thread's reactor, which polls every socket of
the thread so that a server running there keeps serving (re-entrant calls, run_lazy).
When no server runs in the calling thread nothing has to be served while it waits, so
the call sends its request and blocks in ``recv`` on its own socket: no poller, no
reply slot, no hand-off.  The socket's ``RCVTIMEO`` (``RECV_STEP_MS``) wakes it up
regularly to check the server's liveness and the call's timeout; replies that are not
its own (an async call's, a disconnect notice) are dispatched as the reactor would.

The plain sync call or getattr through a proxy also takes a lean path at both ends
(``request_plain``, ``serve_plain``): one decoding, a direct object lookup, the reply
packed by the kept Packer.  Anything unusual takes the general path (docs/rpc.md).
"""
from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

import msgpack
import zmq

from ..errors import Error
from . import refs, wire
from .errors import mark_origin

__all__ = ["RECV_STEP_MS", "SERVE_STEP_MS", "new_packer", "encode", "call_sync", "serve_one",
           "serve_plain", "request_plain", "encode_reply", "send_reply"]

logger = logging.getLogger(__name__)

RECV_STEP_MS = 200     # a waiting sync call checks liveness and timeout this often
SERVE_STEP_MS = 100    # a server alone in its thread notices close() at least this often
_NOBLOCK, _SNDMORE = int(zmq.NOBLOCK), int(zmq.SNDMORE)
_SEND_FIRST = _NOBLOCK | _SNDMORE
_PLAIN_ERRORS = (TypeError, ValueError, OverflowError)


def new_packer(serializer_name: str) -> Any:
    """A reusable msgpack packer for requests made only of plain values (None for
    other serializers).  Same options as the msgpack serializer, without its
    ``default``: a value that needs the type table fails and takes the full path."""
    if serializer_name != "msgpack":
        return None
    return msgpack.Packer(use_bin_type=True, strict_types=True, datetime=False)


def encode(client: Any, payload: dict) -> list:
    """The request frames ``[serializer, body, *buffers]`` for ``payload``."""
    packer = client._packer
    if packer is not None:
        try:
            return [client._ser_name, packer.pack(payload)]
        except _PLAIN_ERRORS:
            pass       # a tuple, an array, a proxy, a big int...: the serializer's type table
    return [client._ser_name, *client.serializer.dumps(payload)]


def request_plain(client: Any, action: str, payload: dict, timeout: float | None) -> Any:
    """A sync request whose result comes back as it is (return type ``auto``), on the
    lean path when nothing unusual is in the way: a usable msgpack client that may wait
    alone, with no releases to send first; else ``client._request`` (the general path)."""
    if client._packer is None or client._closed or client._disconnect_reason is not None or \
            client._thread != threading.get_ident() or refs.has_releases(client.address) or \
            not client._waits_alone():
        return client._request(action, payload, "sync", timeout, "auto")
    req_id = client._stamp(payload, action, "sync", "auto")
    return call_sync(client, encode(client, payload), req_id, action,
                     client.timeout if timeout is None else timeout)


def call_sync(client: Any, frames: list, req_id: int, action: str,
              timeout: float | None) -> Any:
    """Send request ``req_id`` and wait on the client's socket for its reply: its
    result, or the remote exception, TimeoutError or RPCDisconnected raised."""
    sock = client._socket
    try:
        if len(frames) == 2:
            sock.send(frames[0], _SEND_FIRST)
            sock.send(frames[1], _NOBLOCK)
        else:
            client._send_or_time_out(frames, timeout, action)
    except zmq.Again:           # no connection yet: wait for one, within the timeout
        client._send_or_time_out(frames, timeout, action)
    deadline = None if timeout is None or math.isinf(timeout) else time.monotonic() + timeout
    while True:
        if deadline is not None and deadline - time.monotonic() < RECV_STEP_MS / 1000:
            frame = _recv_before(sock, deadline)     # a short wait: not a whole step
        else:
            try:
                frame = sock.recv(0, copy=False)       # at most RCVTIMEO
            except zmq.Again:
                frame = None
        if frame is None:
            _check_waiting(client, deadline, action, req_id, timeout)
            continue
        frames = [frame.bytes]
        while frame.more:
            frame = sock.recv(_NOBLOCK, copy=False)
            frames.append(frame.bytes if len(frames) < 2 else frame.buffer)
        msg = None
        if len(frames) == 2 and frames[0] == b"msgpack":    # a plain reply: decoded once
            try:
                msg = msgpack.unpackb(frames[1], ext_hook=_not_plain, raw=False,
                                      strict_map_key=False)
            except Exception:  # an ext value (proxy, tuple, array...): the general decoder
                msg = None
            if type(msg) is not dict:
                msg = None
            elif msg.get("req_id") == req_id and msg.get("action") == "return" and \
                    msg.get("error") is None:
                return msg.get("rval")
        outcome = client._take_reply(frames, req_id, msg)
        if outcome is not None:
            result, error = outcome
            if error is not None:
                raise error
            return result
        if client._disconnect_reason is not None:
            raise client._disconnect_error(client._disconnect_reason)


def _recv_before(sock: zmq.Socket, deadline: float) -> Any:
    """The first frame of a message that comes before ``deadline`` (None if none)."""
    ms = max(0, int((deadline - time.monotonic()) * 1000 + 0.999))
    if not sock.poll(ms):
        return None
    try:
        return sock.recv(_NOBLOCK, copy=False)
    except zmq.Again:
        return None


def _check_waiting(client: Any, deadline: float | None, action: str, req_id: int,
                   timeout: float | None) -> None:
    """Between two waits: raise if the server is gone or the call's time is up."""
    client._check_alive()
    if client._disconnect_reason is not None:
        raise client._disconnect_error(client._disconnect_reason)
    if deadline is not None and time.monotonic() >= deadline:
        raise TimeoutError(f"no reply from {client.address} to {action!r} "
                           f"(request {req_id}) within {timeout} s")


def encode_reply(packer: Any, serializer: Any, msg: dict, server: Any) -> list:
    """A server's reply frames ``[body, *buffers]``: plain values packed directly by
    ``packer`` (msgpack), anything else by ``serializer`` (proxies served by ``server``)."""
    if packer is not None:
        try:
            return [packer.pack(msg)]
        except _PLAIN_ERRORS:
            pass
    return serializer.dumps(msg, server)


def send_reply(sock: zmq.Socket, ident: bytes, ser_name: bytes, frames: list) -> None:
    """Send ``[ident, ser_name, *frames]`` on a ROUTER (array buffers zero-copy)."""
    if len(frames) == 1:
        sock.send(ident, _SNDMORE)
        sock.send(ser_name, _SNDMORE)
        sock.send(frames[0], 0)
    else:
        wire.send_message(sock, [ident, ser_name, *frames], 3)


def serve_one(server: Any) -> bool:
    """Wait in ``recv`` on the server's own socket (at most ``SERVE_STEP_MS``) and handle
    one request: ``run_forever``'s loop while no other socket shares its thread (a
    poll of the thread's sockets costs several more system calls per request).
    False if none came."""
    sock = server._socket
    try:
        frame = sock.recv(0, copy=False)
    except zmq.Again:
        return False
    frames = [frame.bytes]
    while frame.more:
        frame = sock.recv(_NOBLOCK, copy=False)
        frames.append(frame.bytes if len(frames) < 3 else frame.buffer)
    server._handling += 1
    try:
        if len(frames) != 3 or frames[1] != b"msgpack" or server._auth is not None or \
                not serve_plain(server, frames[0], frames[2]):
            server._handle(frames)
    except Exception:  # never let one bad request stop the server
        logger.exception("%r: unexpected error handling a request", server)
    finally:
        server._handling -= 1
    return True


class _NotPlain(Error):
    """A request holds an ext value (tuple, array, proxy...): for the general path."""


def _not_plain(code: int, data: bytes) -> Any:
    raise _NotPlain


def serve_plain(server: Any, ident: bytes, body: bytes) -> bool:
    """Serve the common request cheaply: a sync ``call``/``getattr`` (return type
    ``auto``) on an object held for a proxy, with plain msgpack arguments, from a client
    the server knows.  False, having done nothing, for any other request (the general
    path, ``RPCServer._handle``, serves it, reporting what is wrong with it).  Its reply
    is the general path's: a call's exception, or a result that needs a proxy or the
    type table, is replied by ``RPCServer._reply``."""
    try:
        msg = msgpack.unpackb(body, ext_hook=_not_plain, raw=False, strict_map_key=False)
    except Exception:        # an ext value, or malformed: the general path decodes it
        return False
    if type(msg) is not dict:
        return False
    get = msg.get
    action = get("action")
    if (action != "call" and action != "getattr") or get("sync", "sync") != "sync" or \
            get("return_type", "auto") != "auto":
        return False
    obj_id = get("obj")
    entry = server._objects.entry(obj_id)
    attrs = get("attrs", [])
    if entry is None or type(attrs) is not list or not all(type(a) is str for a in attrs):
        return False         # e.g. a released object: the general path names it
    if action == "call":
        args, kwargs = get("args", []), get("kwargs", {})
        if type(args) is not list or type(kwargs) is not dict or \
                (kwargs and not all(type(k) is str for k in kwargs)):
            return False
    if not server._clients.touch_known(ident, b"msgpack"):
        return False         # a new client: the general path enters it in the table
    req_id = get("req_id")
    try:
        result = entry[0]
        for a in attrs:
            result = getattr(result, a)
        if action == "call":
            result = result(*args, **kwargs)
    except Exception as exc:
        if action == "call":
            mark_origin(exc, result)      # "in node 'x' on group 'g'" in its one line
        server._reply(ident, b"msgpack", {"action": "return", "req_id": req_id, "rval": None,
                                          "error": wire.format_error(exc)})
        return True
    reply = {"action": "return", "req_id": req_id, "rval": result, "error": None}
    try:
        reply_body = server._packer.pack(reply)
    except _PLAIN_ERRORS:    # a value for the type table, or one to send as a proxy
        server._reply(ident, b"msgpack", reply)
        return True
    send_reply(server._socket, ident, b"msgpack", [reply_body])
    return True
