"""RPCClient: sends requests to one RPCServer; one client per (thread, address)."""
from __future__ import annotations

import itertools
import logging
import math
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeGuard

import zmq

from ..dataflow.paramcheck import one_of
from . import fastpath, refs, registry, wire
from .errors import RPCDisconnected, ServerProcessDied, remote_error
from .futures import Future
from .keys import KeyPair
from .proxy import RETURN_TYPES, SYNC_MODES, ObjectProxy
from .reactor import Reactor
from .security import secure_client

__all__ = ["RPCClient", "get_client"]

logger = logging.getLogger(__name__)
_local = threading.local()
_NOBLOCK = int(zmq.NOBLOCK)


class _Pending:
    """Reply slot of a sync call (lighter than a Future)."""

    __slots__ = ("req_id", "action", "done", "result", "error")

    def __init__(self, req_id: int, action: str):
        self.req_id, self.action = req_id, action
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None

    def is_done(self) -> bool:
        return self.done

    def _resolve(self, result: Any, error: BaseException | None) -> None:
        self.result, self.error, self.done = result, error, True


def _reusable(client: RPCClient | None, address: str) -> TypeGuard[RPCClient]:
    return client is not None and not client._closed and \
        client._generation == registry.generation(address)


def client_for(address: str, server_key: str | None = None) -> RPCClient:
    """The calling thread's client for ``address`` (fast path used by proxies)."""
    clients = getattr(_local, "clients", None)
    if clients is not None:
        client = clients.get(address)
        if _reusable(client, address):
            return client
    return RPCClient(address, server_key=server_key)


def get_client(address: str, **kwargs: Any) -> RPCClient:
    """The calling thread's client for the server at ``address``, made on first use (the
    one documented way to get a client: a client belongs to one thread).  ``kwargs`` go
    to :class:`RPCClient` (``serializer``, ``server_key``, ``client_keys``, ``timeout``)
    when it is made; ``client_keys`` other than the existing client's make a new client,
    which becomes the thread's (the old one stays open for whoever holds it)."""
    clients = _thread_clients()
    existing = clients.get(address)
    if _reusable(existing, address):
        keys = kwargs.get("client_keys")
        if keys is None or keys == existing._client_keys:
            return existing
        del clients[address]
    return RPCClient(address, **kwargs)


def _thread_clients() -> dict[str, RPCClient]:
    clients = getattr(_local, "clients", None)
    if clients is None:
        clients = _local.clients = {}
    return clients


class RPCClient:
    """Connection from the current thread to the RPCServer at ``address``.

    Get one with :func:`get_client` (or ``RPCClient.get_client``, pyacq's name): there is
    one per (thread, address).  As in pyacq, ``RPCClient(address)`` makes a new client only
    when the thread has none for that address, and raises KeyError otherwise.  Calls wait
    at most ``timeout`` seconds (default ``RPCClient.default_timeout``); a server that
    closed raises RPCDisconnected.
    """

    default_timeout: float = 30.0
    #: (thread ident, address) -> that thread's live client (pyacq's registry; read it only)
    clients_by_thread: weakref.WeakValueDictionary[tuple, RPCClient] = weakref.WeakValueDictionary()

    def __init__(self, address: str, *, serializer: str = "msgpack",
                 server_key: str | bytes | None = None, client_keys: KeyPair | None = None,
                 timeout: float | None = None):
        if _reusable(_thread_clients().get(address), address):
            raise KeyError(f"An RPCClient instance already exists for this address "
                           f"({address[:200]}). Use RPCClient.get_client(address) instead.")
        self.address = address
        self._generation = registry.generation(address)
        self.serializer = wire.get_serializer(serializer)
        self._ser_name = self.serializer.name.encode()
        self._packer = fastpath.new_packer(self.serializer.name)
        self.timeout = self.default_timeout if timeout is None else timeout
        self._socket: zmq.Socket = zmq.Context.instance().socket(zmq.DEALER)
        self._socket.set(zmq.LINGER, 1000)
        self._socket.set(zmq.SNDHWM, 0)   # pipelined async calls must never be dropped or block
        self._socket.set(zmq.RCVHWM, 0)
        self._socket.set(zmq.RCVTIMEO, fastpath.RECV_STEP_MS)   # blocking recv: sync calls only
        self._client_keys = client_keys
        if server_key:
            secure_client(self._socket, server_key, client_keys)
        self._socket.connect(address)
        self._ids = itertools.count(1)
        #: options given to the proxies this client's calls return (e.g. ``defer_getattr``)
        self.default_proxy_options: dict = {}
        self._futures: dict[int, Future | _Pending] = {}
        self._closed = False
        self._disconnect_reason: str | None = None
        self._disconnect_error: type[RPCDisconnected] = RPCDisconnected
        self._thread = threading.get_ident()
        self.liveness: Callable[[], str | None] | None = None  # returns a reason once dead
        self._reactor = Reactor.current()
        self._reactor.add(self._socket, self._drain, urgent=False)
        self._reactor.idle_hooks.append(self._flush_releases)
        stale = _thread_clients().get(address)
        if stale is not None and not stale._closed and stale._generation != self._generation:
            stale.close()      # made for an earlier server at this address
        _thread_clients()[address] = self
        RPCClient.clients_by_thread[(self._thread, address)] = self
        self._send_release([])       # the server knows us at once (pyacq's clients ping)

    @classmethod
    def close_thread_client(cls, address: str, reason: str | None = None) -> None:
        """Release the socket of the calling thread's client for ``address``, if any (once
        the server's process has exited, so it does not linger); pending and later calls
        fail with RPCDisconnected(``reason``)."""
        client = _thread_clients().get(address)
        if client is not None and not client._closed:
            # Stay registered as disconnected: proxies still held then fail at once with
            # the reason instead of opening a new connection to a dead address.
            client._mark_disconnected(reason or f"server {address} is gone")
            client._release_socket()

    @classmethod
    def get_client(cls, address: str, **kwargs: Any) -> RPCClient:
        """The calling thread's client for ``address``, made on first use (pyacq's name for
        :func:`get_client`; pyacq's returns None when the address is the calling thread's
        own server, acqflow's a client to it)."""
        return get_client(address, **kwargs)

    def __repr__(self) -> str:
        state = " closed" if self._closed else (" disconnected" if self._disconnect_reason else "")
        return f"<RPCClient {self.address}{state}>"

    # -- public API ------------------------------------------------------------
    def call(self, target: str | ObjectProxy, *args: Any, _sync: str = "sync",
             _timeout: float | None = None, _return_type: str = "auto", **kwargs: Any) -> Any:
        """Call a published object (``'name'`` or ``'name.attr.attr'``) or a proxy."""
        if isinstance(target, ObjectProxy):
            if target._address != self.address:
                raise ValueError(f"{target!r} does not live at {self.address}")
            return self.call_obj(target._obj_id, target._attrs, args, kwargs, _sync, _timeout,
                                 _return_type)
        name, *attrs = target.split(".")
        return self._request("call", {"name": name, "attrs": attrs, "args": list(args),
                                      "kwargs": kwargs}, _sync, _timeout, _return_type)

    def get(self, name: str, _return_type: str = "proxy", _timeout: float | None = None) -> Any:
        """The object published as ``name`` (a proxy unless ``_return_type='auto'``)."""
        return self._request("get", {"name": name}, "sync", _timeout, _return_type)

    def __getitem__(self, name: str) -> Any:
        """``client[name]``: the object published as ``name``, by value if it is a basic
        value (an array, a number, ...), else a proxy (as pyacq's)."""
        return self._request("get", {"name": name}, "sync", None, "auto")

    def __setitem__(self, name: str, value: Any) -> None:
        """``client[name] = value`` publishes ``value`` on the server (as pyacq's)."""
        self._request("publish", {"name": name, "value": value}, "sync", None, "auto")

    def _import(self, module: str, _timeout: float | None = None) -> ObjectProxy:
        """Import ``module`` in the server process; return a proxy to it."""
        return self._request("import", {"module": module}, "sync", _timeout, "proxy")

    def import_module(self, name: str, timeout: float | None = None) -> ObjectProxy:
        """Import module ``name`` in the server process; return a proxy to it (the same as
        pyacq's ``_import``, under a public name)."""
        return self._import(name, timeout)

    def transfer(self, value: Any, _timeout: float | None = None) -> ObjectProxy:
        """Send ``value`` to the server by value; return a proxy to the copy there."""
        return self._request("transfer", {"value": value}, "sync", _timeout, "proxy")

    def ping(self, timeout: float | None = None) -> str:
        """Round trip to the server; raises TimeoutError if it does not answer in time."""
        return self._request("ping", {}, "sync", timeout, "auto")

    def close_server(self, timeout: float | None = None) -> bool:
        """Ask the server to close (it tells all its clients); True once closed, also
        when it was already."""
        if self.disconnected():
            return True
        self._request("close", {}, "sync", timeout, "auto")
        self._mark_disconnected(f"server {self.address} closed")
        return True

    def server_stats(self, timeout: float | None = None) -> dict:
        """Object counts of the server (to check that released proxies free objects)."""
        self._flush_releases()
        return self._request("stats", {}, "sync", timeout, "auto")

    def disconnected(self) -> bool:
        """True once the server said it closed (or its process died, or we closed)."""
        if not self._closed:
            self._check_alive()
            self._drain()
        return self._closed or self._disconnect_reason is not None

    def process(self, timeout: float = 0.0) -> None:
        """Handle replies (and local server requests) waiting in this thread."""
        self._reactor.process(timeout)

    def close(self) -> None:
        """Close the connection; pending calls fail with RPCDisconnected."""
        if self._closed:
            return
        if threading.get_ident() != self._thread:
            raise RuntimeError("close a client from the thread that made it")
        self._say_bye()
        self._closed = True
        self._fail_all(RPCDisconnected(f"client for {self.address} was closed"))
        if _thread_clients().get(self.address) is self:
            del _thread_clients()[self.address]
        self._release_socket()

    def _release_socket(self) -> None:
        """Stop polling the socket and close it (its file descriptors go with it)."""
        self._reactor.remove(self._socket)
        if self._flush_releases in self._reactor.idle_hooks:
            self._reactor.idle_hooks.remove(self._flush_releases)
        self._socket.close()

    # -- used by proxies ---------------------------------------------------------
    def call_obj(self, obj_id: int, attrs: tuple, args: tuple, kwargs: dict, sync: str = "sync",
                 timeout: float | None = None, return_type: str = "auto") -> Any:
        """Call the remote object ``obj_id`` (attribute path ``attrs``)."""
        payload = {"obj": obj_id, "attrs": list(attrs), "args": list(args), "kwargs": kwargs}
        if sync == "sync" and return_type == "auto":
            return fastpath.request_plain(self, "call", payload, timeout)
        return self._request("call", payload, sync, timeout, return_type)

    def get_attr(self, obj_id: int, attrs: tuple, return_type: str = "auto",
                 timeout: float | None = None) -> Any:
        """Fetch the remote object ``obj_id`` (attribute path ``attrs``)."""
        payload = {"obj": obj_id, "attrs": list(attrs)}
        if return_type == "auto":
            return fastpath.request_plain(self, "getattr", payload, timeout)
        return self._request("getattr", payload, "sync", timeout, return_type)

    def set_attr(self, obj_id: int, attrs: tuple, value: Any, timeout: float | None = None) -> None:
        """Set the last attribute of ``attrs`` on the remote object ``obj_id``."""
        self._request("setattr", {"obj": obj_id, "attrs": list(attrs), "value": value}, "sync",
                      timeout, "auto")

    def incref(self, obj_id: int) -> int:
        """Ask the owner for more weight for ``obj_id`` (rarely needed)."""
        return self._request("incref", {"obj": obj_id}, "sync", None, "auto")

    # -- machinery -------------------------------------------------------------
    def _check_usable(self) -> None:
        if self._closed:
            raise RPCDisconnected(f"client for {self.address} is closed")
        if self._disconnect_reason is not None:
            raise self._disconnect_error(self._disconnect_reason)
        if threading.get_ident() != self._thread:
            raise RuntimeError("an RPCClient is used only by the thread that made it; "
                               "use RPCClient.get_client(address) in each thread")

    def _say_bye(self) -> None:
        """Tell the server we are gone (with our last releases), so it forgets us."""
        if self._disconnect_reason is not None:
            return
        frames = self.serializer.dumps({"action": "bye", "req_id": None,
                                        "refs": refs.take_releases(self.address)})
        try:
            wire.send_message(self._socket, [self._ser_name, *frames], 2, _NOBLOCK)
        except zmq.ZMQError:
            logger.debug("could not say bye to %s", self.address)

    def _flush_releases(self) -> None:
        if self._closed or self._disconnect_reason is not None:
            return
        items = refs.take_releases(self.address)
        if items:
            self._send_release(items)

    def _send_release(self, items: list) -> None:
        """Give weights back (no reply); with no items it only makes the server know this
        client, so it is told when the server closes even if this client never called."""
        frames = self.serializer.dumps({"action": "release", "req_id": None, "refs": items})
        try:
            wire.send_message(self._socket, [self._ser_name, *frames], 2, _NOBLOCK)
        except zmq.ZMQError:
            logger.debug("could not send releases to %s", self.address)

    def _request(self, action: str, payload: dict, sync: str, timeout: float | None,
                 return_type: str) -> Any:
        self._check_usable()
        if sync not in SYNC_MODES or return_type not in RETURN_TYPES:     # checked only when refused
            one_of(*SYNC_MODES)("_sync", sync)
            one_of(*RETURN_TYPES)("_return_type", return_type)
        self._flush_releases()
        req_id = self._stamp(payload, action, sync, return_type)
        frames = fastpath.encode(self, payload)
        if timeout is None:
            timeout = self.timeout
        if sync == "sync":
            if self._waits_alone():
                return fastpath.call_sync(self, frames, req_id, action, timeout)
            pending = self._futures[req_id] = _Pending(req_id, action)
            self._send(frames, timeout, action, req_id)
            self._wait_for(pending, timeout, forget=True)
            if pending.error is not None:
                raise pending.error
            return pending.result
        fut = None
        if sync == "async":
            fut = self._futures[req_id] = Future(self, req_id, action, timeout)
        self._send(frames, timeout, action, req_id)
        return fut

    def _stamp(self, payload: dict, action: str, sync: str, return_type: str) -> int:
        """Make ``payload`` the request it is for; its new request id."""
        req_id = next(self._ids)
        payload["action"] = action
        payload["req_id"] = req_id
        payload["sync"] = sync
        payload["return_type"] = return_type
        return req_id

    def _waits_alone(self) -> bool:
        """True if a sync call may wait on this client's socket alone (fastpath.py): the
        thread runs no server and its other clients expect no reply, so nothing else
        has to be served or completed meanwhile."""
        if self._reactor.serves():
            return False
        for client in _local.clients.values():
            if client._futures and client is not self:
                return False
        return True

    def _send(self, frames: list, timeout: float | None, action: str, req_id: int) -> None:
        """Send request ``req_id``, forgetting it if that fails."""
        try:
            self._send_or_time_out(frames, timeout, action)
        except BaseException:
            self._futures.pop(req_id, None)
            raise

    def _send_or_time_out(self, frames: list, timeout: float | None, action: str) -> None:
        """Send without ever blocking for good: a DEALER with no live connection (server
        gone, or a Curve handshake the server refused) blocks in send(), so wait for
        room with poll() and give up after ``timeout`` like a reply that never came."""
        try:
            wire.send_message(self._socket, frames, 2, _NOBLOCK)
            return
        except zmq.Again:
            pass
        deadline = None if timeout is None or math.isinf(timeout) else time.monotonic() + timeout
        while True:
            left_ms = 200 if deadline is None else int((deadline - time.monotonic()) * 1000)
            step = max(0, min(200, left_ms))
            if self._socket.poll(step, zmq.POLLOUT):
                try:
                    wire.send_message(self._socket, frames, 2, _NOBLOCK)
                    return
                except zmq.Again:
                    pass
            self._check_alive()
            if self._disconnect_reason is not None:
                raise self._disconnect_error(self._disconnect_reason)
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"cannot send {action!r} to {self.address} within {timeout} s: "
                                   f"no connection (server down, or it refused this client's "
                                   f"Curve key?)")

    def _wait_for(self, fut: Any, timeout: float | None, forget: bool = False) -> None:
        """Process this thread's sockets until ``fut`` is done; TimeoutError after ``timeout``
        (``forget``: stop expecting the reply then, as a sync call does)."""
        if timeout is not None and math.isinf(timeout):
            timeout = None
        done = fut.is_done if isinstance(fut, _Pending) else fut.done
        if not self._reactor.wait(done, timeout, self._check_alive):
            if forget:
                self._futures.pop(fut.req_id, None)
            raise TimeoutError(f"no reply from {self.address} to {fut.action!r} "
                               f"(request {fut.req_id}) within {timeout} s")

    def _check_alive(self) -> None:
        if self.liveness is not None and self._disconnect_reason is None:
            reason = self.liveness()
            if reason:
                self._mark_disconnected(reason, ServerProcessDied)

    def _mark_disconnected(self, reason: str, error: type = RPCDisconnected) -> None:
        if self._disconnect_reason is None:
            self._disconnect_reason = reason
            self._disconnect_error = error
        self._fail_all(self._disconnect_error(reason))

    def _fail_all(self, exc: Exception) -> None:
        futures, self._futures = self._futures, {}
        for fut in futures.values():
            fut._resolve(None, exc)

    def _drain(self) -> None:
        """Receive and dispatch every reply waiting on the socket."""
        sock = self._socket
        while not self._closed and not sock.closed:
            try:
                frames = wire.recv_message(sock, 2)
            except zmq.Again:
                return
            try:
                self._dispatch(frames)
            except Exception:
                logger.exception("dropping a bad message from %s", self.address)
            if self._closed or sock.closed or not wire.has_message(sock):
                return

    def _decode(self, frames: list) -> tuple[dict, list]:
        """A reply's message and the proxy-resolution errors met decoding it."""
        if len(frames) < 2:
            raise ValueError("short reply")
        serializer = self.serializer if frames[0] == self._ser_name else \
            wire.get_serializer(frames[0])
        errors: list = []
        msg = serializer.loads(frames[1], frames[2:], errors)
        if not isinstance(msg, dict):
            raise ValueError(f"a reply must be a map, not {type(msg).__name__}")
        return msg, errors

    def _dispatch(self, frames: list) -> None:
        self._on_message(*self._decode(frames))

    def _on_message(self, msg: dict, errors: list) -> None:
        action = msg.get("action")
        if action == "disconnect":
            self._mark_disconnected(f"server {self.address} closed")
            return
        req_id: Any = msg.get("req_id")       # anything a server sent
        fut = self._futures.pop(req_id, None)
        if fut is None:
            error = msg.get("error")
            if error and action == "error":
                logger.warning("server %s could not read a request: %s", self.address,
                               error.get("message") if isinstance(error, dict) else error)
            return
        fut._resolve(*self._outcome(msg, errors))

    def _take_reply(self, frames: list, req_id: int,
                    msg: dict | None = None) -> tuple[Any, BaseException | None] | None:
        """The outcome of the reply ``frames`` (``msg`` if already decoded) if it answers the
        sync call ``req_id`` (waiting on the socket, see fastpath.py); any other message
        is dispatched (None)."""
        try:
            msg, errors = self._decode(frames) if msg is None else (msg, [])
            if msg.get("req_id") == req_id and msg.get("action") != "disconnect":
                return self._outcome(msg, errors)
            self._on_message(msg, errors)
        except Exception:
            logger.exception("dropping a bad message from %s", self.address)
        return None

    def _outcome(self, msg: dict, errors: list) -> tuple[Any, BaseException | None]:
        """(result, exception) of a reply message."""
        error = msg.get("error")
        if error:
            return None, remote_error(error)
        if errors:
            return None, errors[0]
        rval = msg.get("rval")
        if self.default_proxy_options and isinstance(rval, ObjectProxy):
            rval._set_proxy_options(**self.default_proxy_options)
        return rval, None
