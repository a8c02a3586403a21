"""RPCServer: serves calls, attribute access and imports to RPC clients over a ROUTER socket."""
from __future__ import annotations

import importlib
import itertools
import logging
import os
import threading
import time
from typing import Any

import zmq

from . import fastpath, registry, wire
from .clients import ClientTable
from .errors import SerializationError, mark_origin
from .objects import ObjectTable
from .private import is_private_address, private_address
from .proxy import RETURN_TYPES, SYNC_MODES, ForceProxy
from .refs import WEIGHT
from .reactor import Reactor
from .security import check_bind, secure_server

__all__ = ["RPCServer"]

logger = logging.getLogger(__name__)

_BATCH = 64          # requests handled per readiness event before yielding to other sockets
_BAD_LOG_PER_S = 5    # bad requests logged per second (the rest are counted)
_IDLE = 1.0          # seconds between housekeeping passes of run_forever
_wake_ids = itertools.count()
_NOBLOCK = int(zmq.NOBLOCK)


class _NoProxy:
    """Serializer 'server' that refuses to publish anything (return_type='value')."""
    closed = False

    def proxy_wire(self, obj: Any) -> dict:
        raise SerializationError(f"{type(obj).__name__} object cannot be returned by value")


_NO_PROXY = _NoProxy()


class RPCServer:
    """Serves remote requests for objects of this process.

    ``RPCServer(address)`` binds at once (``address`` becomes the resolved
    endpoint; by default a private ipc socket only this user can reach, see
    docs/rpc.md).  It belongs to the thread that runs it (else the one that made
    it): only there do proxies to its objects resolve to the objects themselves.
    ``run_forever()`` serves in the calling thread until ``close()``;
    ``run_lazy()`` serves only while a client in the calling thread waits for a
    reply.  ``server['name'] = obj`` publishes an object for ``client.get('name')``.
    Binding a non-loopback address needs ``keys_dir`` (CurveZMQ, see ``acqflow keys``).
    """

    def __init__(self, address: str | None = None, *, keys_dir: str | os.PathLike | None = None,
                 max_message_size: int | None = None, name: str | None = None,
                 max_clients: int = 1024, client_idle_s: float = 600.0):
        if address is None:
            address = private_address("rpc")
        check_bind(address, secure=keys_dir is not None)
        self.name = name
        self._own_context = keys_dir is not None
        self._context = zmq.Context() if self._own_context else zmq.Context.instance()
        self._socket = self._context.socket(zmq.ROUTER)
        self._socket.linger = 1000
        self._socket.sndhwm = 0      # a ROUTER drops replies at its HWM: never drop
        self._socket.rcvhwm = 0
        self._socket.rcvtimeo = fastpath.SERVE_STEP_MS   # blocking recv: run_forever only
        self._auth = None
        self.server_key: str | None = None
        try:
            if keys_dir is not None:
                self._auth, self.server_key = secure_server(self._socket, self._context, keys_dir)
            if max_message_size:
                self._socket.setsockopt(zmq.MAXMSGSIZE, int(max_message_size))
            self._socket.bind(address)
        except Exception:
            self._teardown_socket()
            raise
        self.address: str = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self._objects = ObjectTable()           # what proxies held elsewhere stand for
        self._published: dict[str, Any] = {"self": self}
        self._clients = ClientTable(max_clients, client_idle_s)
        self._bad_window = [0.0, 0]             # rate limit for logging bad requests
        self.n_bad_requests = 0                 # unreadable requests refused
        self._closed = False
        self._torn_down = False
        self._close_requested = False
        self._handling = 0            # requests being handled (nested ones re-enter)
        self._serving_thread: int | None = None
        self._owner_thread = threading.get_ident()
        self._reactor: Reactor | None = None
        self._wake_addr = f"inproc://acqflow-rpc-wake-{os.getpid()}-{next(_wake_ids)}"
        self._wake: zmq.Socket | None = None
        self._packer = fastpath.new_packer("msgpack")   # replies of plain values
        self._actions = {
            "call": self._do_call, "getattr": self._do_getattr, "setattr": self._do_setattr,
            "import": self._do_import, "get": self._do_get, "transfer": self._do_transfer,
            "ping": lambda msg: "pong", "incref": self._do_incref, "stats": self._do_stats,
            "close": self._do_close, "publish": self._do_publish,
        }
        registry.register(self)

    # -- publishing ----------------------------------------------------------
    def __setitem__(self, name: str, obj: Any) -> None:
        self._published[name] = obj

    def __getitem__(self, name: str) -> Any:
        return self._published[name]

    def __delitem__(self, name: str) -> None:
        del self._published[name]

    @property
    def closed(self) -> bool:
        """True once the server stopped serving."""
        return self._closed

    def running(self) -> bool:
        """True until the server closed (pyacq's name)."""
        return not self._closed

    def in_own_thread(self) -> bool:
        """True in the thread this server belongs to (the one serving it, else its maker):
        only there may a proxy to one of its objects be replaced by the object itself."""
        owner = self._serving_thread if self._serving_thread is not None else self._owner_thread
        return owner == threading.get_ident()

    @staticmethod
    def get_server() -> RPCServer | None:
        """The server that serves the calling thread (``run_lazy``/``run_forever``), if any."""
        return registry.thread_server()

    @staticmethod
    def local_client() -> Any:
        """The calling thread's RPCClient to the server serving this thread (pyacq's name)."""
        server = registry.thread_server()
        if server is None:
            raise RuntimeError("no RPCServer serves this thread (call run_lazy() first)")
        from .client import RPCClient
        return RPCClient.get_client(server.address)

    def __repr__(self) -> str:
        return f"<RPCServer {self.name or ''} {self.address}{' closed' if self._closed else ''}>"

    # -- running ---------------------------------------------------------------
    def run_lazy(self) -> None:
        """Serve requests whenever a client in the calling thread waits for a reply."""
        if self._closed:
            raise RuntimeError("server is closed")
        me = threading.get_ident()
        if self._serving_thread not in (None, me):
            raise RuntimeError("this server is already served by another thread")
        if self._serving_thread is None:
            self._serving_thread = me
            self._reactor = Reactor.current()
            self._wake = self._context.socket(zmq.PULL)
            self._wake.bind(self._wake_addr)
            self._reactor.add(self._socket, self._process)
            self._reactor.add(self._wake, self._on_wake)
        registry.set_thread_server(self)

    def run_forever(self) -> None:
        """Serve in the calling thread until ``close()`` (or a client's close_server())."""
        self.run_lazy()
        registry.mark_forever(self)
        reactor = self._reactor
        assert reactor is not None       # run_lazy() made it
        while not self._closed:
            if len(reactor.handlers) == 2:    # only ours (ROUTER, wake): recv on ours
                busy = fastpath.serve_one(self)
            else:
                busy = reactor.process(_IDLE)
            if not busy:
                reactor.idle()
                self._clients.prune()
            if self._close_requested and not self._closed:
                self._close_now()
        self._close_now()       # ``_closed`` set from outside: still tell the clients

    def close(self) -> None:
        """Stop serving, telling every client that talked to this server."""
        if self._closed:
            return
        if self._serving_thread in (None, threading.get_ident()):
            self._close_now()
            return
        self.request_close()

    def request_close(self) -> None:
        """Ask the serving thread to close (safe from other threads and signal handlers)."""
        self._close_requested = True
        if self._closed or self._wake is None:
            return
        poke = self._context.socket(zmq.PUSH)
        poke.linger = 0
        try:
            poke.connect(self._wake_addr)
            poke.send(b"", zmq.NOBLOCK)
        except zmq.ZMQError:
            pass
        finally:
            poke.close()

    def _on_wake(self) -> None:
        wake = self._wake
        try:
            while wake is not None:
                wake.recv(zmq.NOBLOCK)
        except zmq.Again:
            pass
        if self._close_requested:
            self._close_now()

    def _notify_clients(self, exclude: bytes | None = None) -> None:
        """Tell every client (but ``exclude``) that this server closes."""
        notice = {"action": "disconnect", "req_id": None}
        for ident, ser_name in list(self._clients.items()):
            if ident == exclude:
                continue
            try:
                frames = wire.SERIALIZERS[ser_name].dumps(notice)
                wire.send_message(self._socket, [ident, ser_name, *frames], 3, zmq.NOBLOCK)
            except zmq.ZMQError:
                pass

    def _close_now(self) -> None:
        if self._torn_down:
            return
        if self._handling:            # e.g. a signal handler's request_close seen by a nested
            self._close_requested = True      # reactor pass: the reply still needs the socket;
            return                            # closed once the outer request is done
        self._closed = True           # (pyacq's tests set it from outside: torn down all the same)
        self._torn_down = True
        self._notify_clients()
        if self._reactor is not None:
            self._reactor.remove(self._socket)
            if self._wake is not None:
                self._reactor.remove(self._wake)
        if self._wake is not None:
            self._wake.close(linger=0)
        registry.unregister(self)
        self._teardown_socket()
        self._objects.clear()
        self._published.clear()
        self._published["self"] = self
        logger.debug("%r closed", self)

    def _teardown_socket(self) -> None:
        self._socket.close()
        address = getattr(self, "address", "")
        if is_private_address(address):   # zmq unlinks it later, from its I/O thread
            try:
                os.unlink(address[len("ipc://"):])
            except OSError:
                pass
        if self._auth is not None:
            self._auth.stop()
        if self._own_context:
            self._context.term()

    # -- request handling ----------------------------------------------------
    def _process(self) -> None:
        """Handle the requests waiting on the socket (called by the reactor)."""
        sock = self._socket
        for _ in range(_BATCH):
            if self._closed:
                break
            try:
                frames = wire.recv_message(sock, 3)
            except zmq.Again:
                break
            self._handling += 1
            try:
                self._handle(frames)
            except Exception:  # never let one bad request stop the server
                logger.exception("%r: unexpected error handling a request", self)
            finally:
                self._handling -= 1
            if self._closed or not wire.has_message(sock):
                break
        if self._close_requested:
            self._close_now()

    def _reply(self, ident: bytes, ser_name: bytes, msg: dict) -> None:
        serializer = wire.SERIALIZERS[ser_name]
        server = _NO_PROXY if msg.pop("_value_only", False) else self
        try:
            frames = fastpath.encode_reply(self._packer if ser_name == b"msgpack" else None,
                                           serializer, msg, server)
        except Exception as exc:
            msg = {"action": "return", "req_id": msg.get("req_id"), "rval": None,
                   "error": wire.format_error(exc)}
            try:
                frames = serializer.dumps(msg)
            except Exception:   # e.g. an unserializable req_id
                msg["req_id"] = None
                frames = serializer.dumps(msg)
        fastpath.send_reply(self._socket, ident, ser_name, frames)

    def _reply_error(self, ident: bytes, ser_name: bytes, req_id: Any, exc: BaseException) -> None:
        self.n_bad_requests += 1
        now = time.monotonic()
        if now - self._bad_window[0] > 1.0:
            if self._bad_window[1] > _BAD_LOG_PER_S:
                logger.warning("%r: %d more bad requests not logged", self,
                               self._bad_window[1] - _BAD_LOG_PER_S)
            self._bad_window = [now, 0]
        self._bad_window[1] += 1
        if self._bad_window[1] <= _BAD_LOG_PER_S:
            logger.warning("%r: bad request from %s: %s", self, ident.hex()[:16], exc)
        self._reply(ident, ser_name, {"action": "error", "req_id": req_id, "rval": None,
                                      "error": wire.format_error(exc)})

    def _handle(self, frames: list) -> None:
        ident = frames[0]
        if len(frames) < 3:
            self._reply_error(ident, b"json", None,
                              SerializationError("expected frames [serializer, body, *buffers]"))
            return
        ser_name = frames[1]
        serializer = wire.SERIALIZERS.get(ser_name)
        if serializer is None:
            self._reply_error(ident, b"json", None, SerializationError(
                f"unknown serializer {ser_name[:40]!r}; use one of {list(wire.SERIALIZERS)}"))
            return
        errors: list = []
        try:
            msg = serializer.loads(frames[2], frames[3:], errors)
            if not isinstance(msg, dict):
                raise SerializationError(f"a request must be a map, not {type(msg).__name__}")
        except Exception as exc:
            self._reply_error(ident, ser_name, serializer.peek_req_id(frames[2]), exc)
            return
        action = msg.get("action")
        if action == "bye":
            self._objects.release(msg.get("refs"))
            self._clients.forget(ident)
            return
        self._clients.touch(ident, ser_name)
        if action == "release":
            self._objects.release(msg.get("refs"))
            return
        req_id = msg.get("req_id")
        sync = msg.get("sync", "sync")
        return_type = msg.get("return_type", "auto")
        try:
            if errors:
                raise errors[0]
            if sync not in SYNC_MODES:
                raise ValueError(f"bad sync mode {sync!r}; use one of {SYNC_MODES}")
            if return_type not in RETURN_TYPES:
                raise ValueError(f"bad return_type {return_type!r}; use one of {RETURN_TYPES}")
            if action == "close":        # the others learn it before the closer's reply
                self._notify_clients(exclude=ident)
            handler = self._actions.get(action) if isinstance(action, str) else None
            if handler is None:
                raise ValueError(f"unknown action {action!r}; use one of {wire.ACTIONS}")
            result = handler(msg)
        except Exception as exc:
            if sync == "off":
                logger.warning("%r: error in %s request with sync='off'", self, action,
                               exc_info=exc)
                return
            self._reply(ident, ser_name, {"action": "return", "req_id": req_id, "rval": None,
                                          "error": wire.format_error(exc)})
            return
        if sync == "off":
            return
        if return_type == "proxy":
            result = ForceProxy(result)
        self._reply(ident, ser_name, {"action": "return", "req_id": req_id, "rval": result,
                                      "error": None, "_value_only": return_type == "value"})

    # -- actions ---------------------------------------------------------------
    def _target(self, msg: dict, drop_last: bool = False) -> Any:
        attrs = msg.get("attrs", [])
        if not isinstance(attrs, list) or not all(isinstance(a, str) for a in attrs):
            raise ValueError("attrs must be a list of names")
        if drop_last:
            attrs = attrs[:-1]
        if "obj" in msg:
            obj = self._objects.get(msg["obj"], self.address)
        elif "name" in msg:
            name = msg["name"]
            if not isinstance(name, str) or name not in self._published:
                raise NameError(f"no object published as {name!r} on {self.address}")
            obj = self._published[name]
        else:
            raise ValueError("request names no target: give 'obj' (an object id) or 'name'")
        for a in attrs:
            obj = getattr(obj, a)
        return obj

    def _do_call(self, msg: dict) -> Any:
        args, kwargs = msg.get("args", []), msg.get("kwargs", {})
        if not isinstance(args, (list, tuple)) or not isinstance(kwargs, dict) or \
                (kwargs and not all(isinstance(k, str) for k in kwargs)):
            raise ValueError("args must be a list and kwargs a map with string keys")
        target = self._target(msg)
        try:
            return target(*args, **kwargs)
        except Exception as exc:
            mark_origin(exc, target)      # "in node 'x' on group 'g'" in its one line
            raise

    def _do_getattr(self, msg: dict) -> Any:
        return self._target(msg)

    def _do_setattr(self, msg: dict) -> None:
        attrs = msg.get("attrs")
        if not attrs:
            raise ValueError("setattr needs a non-empty attrs path")
        setattr(self._target(msg, drop_last=True), attrs[-1], msg.get("value"))

    def _do_import(self, msg: dict) -> Any:
        module = msg.get("module")
        if not isinstance(module, str):
            raise ValueError("import needs a module name")
        return importlib.import_module(module)

    def _do_get(self, msg: dict) -> Any:
        name = msg.get("name")
        if not isinstance(name, str) or name not in self._published:
            raise NameError(f"no object published as {name!r} on {self.address}")
        return self._published[name]

    def _do_publish(self, msg: dict) -> None:
        name = msg.get("name")
        if not isinstance(name, str):
            raise ValueError("publish needs a name")
        self._published[name] = msg.get("value")

    def _do_transfer(self, msg: dict) -> Any:
        return msg.get("value")

    def _do_incref(self, msg: dict) -> int:
        return self._objects.incref(msg.get("obj"), self.address)

    def _do_stats(self, msg: dict) -> dict:
        return {"objects": len(self._objects), "published": len(self._published),
                "clients": len(self._clients), "bad_requests": self.n_bad_requests,
                "address": self.address, "pid": os.getpid()}

    def _do_close(self, msg: dict) -> bool:
        self._close_requested = True
        return True

    # -- object table ----------------------------------------------------------
    def proxy_wire(self, obj: Any) -> dict:
        """Publish ``obj`` for one more proxy and return that proxy's wire dict."""
        if self._closed:
            raise SerializationError(f"cannot publish {type(obj).__name__}: {self!r} is closed")
        obj_id = self._objects.add(obj)
        cls = type(obj)
        d = {"address": self.address, "obj_id": obj_id, "weight": WEIGHT, "attrs": [],
             "type": cls.__qualname__ if cls.__module__ == "builtins" else
             f"{cls.__module__}.{cls.__qualname__}"}
        if self.server_key:
            d["server_key"] = self.server_key
        return d

    def resolve_wire(self, d: dict) -> Any:
        """The local object a proxy dict names (its weight comes back to us)."""
        obj_id = d["obj_id"]
        obj = self._objects.get(obj_id, self.address)
        if d.get("weight"):
            self._objects.release([[obj_id, d["weight"]]])
        for a in d.get("attrs", ()):
            obj = getattr(obj, a)
        return obj

    @property
    def n_objects(self) -> int:
        """Number of objects currently held for remote proxies."""
        return len(self._objects)
