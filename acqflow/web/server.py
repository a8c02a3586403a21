"""WebMonitor: an aiohttp server, in a thread of the manager's process, serving the
monitor page, /api/graph, /api/stats, a WebSocket of live updates and previews,
and token-protected controls (docs/monitor.md)."""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import socket
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

try:
    from aiohttp import WSMsgType, web
except ImportError as exc:          # the error names the extra
    raise ImportError(f"the web monitor needs aiohttp ({exc}): pip install acqflow[web]") from None

from ..dataflow.plain import to_plain
from ..manager.summary import summarize
from ..rpc.security import is_loopback
from .clients import Subscriber
from .controls import ControlError, group_action, node_action, recording_action
from .graph import graph_json, stats_json
from .limits import ConnectionGuard, Limits, http_logger
from .preview import PreviewError, PreviewTap

__all__ = ["WebMonitor", "parse_address"]

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
MAX_PREVIEWS = 4
MAX_CLIENT_MESSAGE = 65536     # bytes: clients only ever send a short list of previews


def parse_address(address: str | int) -> tuple[str, int]:
    """'8080', ':8080', 'HOST:8080', '[::1]:8080' -> (host, port); host defaults to 127.0.0.1."""
    text = str(address).strip()
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
        if not 0 <= number <= 65535:
            raise ValueError
    except ValueError:
        raise ValueError(f"bad web address {text[:60]!r}: expected [HOST:]PORT, e.g. 127.0.0.1:8080") from None
    return host, number


def dumps(value: Any) -> str:
    """Strict JSON of ``value`` (non-finite floats null, numpy values plain: :func:`to_plain`)."""
    try:
        return json.dumps(value, allow_nan=False)
    except (ValueError, TypeError):
        return json.dumps(to_plain(value, json=True), allow_nan=False, default=str)


def json_response(value: Any, status: int = 200) -> web.Response:
    return web.json_response(value, status=status, dumps=dumps)


def _json_error(cls: type, message: str) -> web.HTTPException:
    return cls(text=json.dumps({"error": message}), content_type="application/json")


def check_token(token: str) -> str:
    """A token must be printable ASCII without spaces: what an HTTP header carries intact."""
    if not (isinstance(token, str) and token.isascii() and token.isprintable() and " " not in token):
        raise ValueError(f"bad web token {str(token)[:40]!r}: use printable ASCII without spaces")
    return token


def _bad_auth(detail: str) -> web.HTTPException:
    return _json_error(web.HTTPUnauthorized, f"{detail}: send the web monitor's token (printed at start) "
                                             f"as 'Authorization: Bearer TOKEN'")


class WebMonitor:
    """Serves the monitor of ``manager`` on ``host:port`` (port 0: any free one) until
    :meth:`close`.  ``token`` (default: generated) guards the controls, and every
    request when ``host`` is not loopback.  Stats are polled every ``interval`` s.
    ``limits``: :class:`~acqflow.web.limits.Limits` fields (``max_connections``, ...)."""

    _conn_guard: ConnectionGuard        # made by the server thread at start

    def __init__(self, manager: Any, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                 interval: float = 0.4, preview_seconds: float = 4.0, **limits: Any):
        self.manager, self.host, self.interval = manager, host, float(interval)
        self.token = check_token(token) if token else secrets.token_urlsafe(12)
        self.limits = Limits(**limits)
        self.slow_clients = 0          # live-update clients disconnected for not reading
        self._dropped = 0              # updates never sent to clients that left
        self.loopback = is_loopback(f"tcp://{host}:0")
        self.preview_seconds = preview_seconds
        self.summary: dict[str, Any] | None = None
        self.error: str | None = None
        self._last_stats: Mapping[str, Any] | None = None
        self._clients: dict[web.WebSocketResponse, Subscriber] = {}
        self._taps: dict[str, PreviewTap | str] = {}
        self._polls = ThreadPoolExecutor(1, thread_name_prefix="acqflow-web-stats")
        self._controls = ThreadPoolExecutor(1, thread_name_prefix="acqflow-web-control")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            self._sock = socket.create_server((host, port), family=family)
        except OSError as exc:
            raise OSError(f"web monitor cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self.port = self._sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="acqflow-web", daemon=True)
        self._thread.start()
        if not self._ready.wait(60):
            self._startup_error = TimeoutError("the web monitor did not start within 60 s")
        if self._startup_error is not None:
            self.close()
            self._sock.close()
            raise self._startup_error

    # -- addresses -------------------------------------------------------------
    @property
    def url(self) -> str:
        """The page's address, ``http://host:port/`` (without the token)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def banner(self) -> str:
        """The line printed at start: where, and what the token guards."""
        if self.loopback:
            return (f"web monitor: {self.url} (controls need the token {self.token}; "
                    f"{self.url}#token={self.token} opens the page with it)")
        return (f"web monitor: {self.url} listens on {self.host}, not loopback: every request needs "
                f"the token {self.token} ({self.url}#token={self.token} opens the page with it)")

    # -- the server thread -----------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:        # raised in the caller's thread
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._stop())
        pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC)
        app.router.add_get("/api/graph", self._graph)
        app.router.add_get("/api/stats", self._stats)
        app.router.add_get("/ws", self._websocket)
        app.router.add_post("/api/nodes/{name}/{action}", self._control)
        app.router.add_post("/api/groups/{name}/{action}", self._control)
        app.router.add_post("/api/recording/{action}", self._control)
        app.on_shutdown.append(self._close_clients)
        self._runner = web.AppRunner(app, access_log=None, keepalive_timeout=self.limits.idle_timeout,
                                     logger=http_logger())
        await self._runner.setup()
        assert self._runner.server is not None
        self._conn_guard = ConnectionGuard(self._sock, self._runner.server, self.limits)
        self._tap_lock = asyncio.Lock()
        self._polled = asyncio.Event()      # set once the ticker's first poll has ended
        self._ticker = asyncio.ensure_future(self._tick())

    async def _stop(self) -> None:
        self._ticker.cancel()
        self._conn_guard.close()
        self._sock.close()
        await self._runner.cleanup()
        for tap in list(self._taps.values()):
            if isinstance(tap, PreviewTap):
                await self._loop.run_in_executor(self._controls, tap.close)
        self._taps.clear()

    def close(self) -> None:
        """Stop serving: close the clients, the previews and the socket."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
        self._polls.shutdown(wait=False)
        self._controls.shutdown(wait=False)

    def __enter__(self) -> "WebMonitor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def counts(self) -> dict[str, int]:
        """What the limits did so far: connections accepted, refused (503), evicted to
        make room, closed idle; accept() exhaustions; live-update clients and drops."""
        if threading.current_thread() is not self._thread and self._thread.is_alive():
            return asyncio.run_coroutine_threadsafe(self._counts(), self._loop).result(30)
        return self._counts_now()

    async def _counts(self) -> dict[str, int]:
        return self._counts_now()

    def _counts_now(self) -> dict[str, int]:
        guard = getattr(self, "_conn_guard", None)          # None before start
        counts = dict(guard.counts) if guard else {}
        counts.update(open=guard.open_connections() if guard else 0, websockets=len(self._clients),
                      slow_clients=self.slow_clients,
                      dropped_updates=self._dropped + sum(c.dropped for c in self._clients.values()))
        return counts

    # -- access ----------------------------------------------------------------
    def _given_token(self, request: web.Request) -> str:
        """The token a request carries; 401 when it carries none or a malformed one."""
        auth = request.headers.get("Authorization")
        if auth is not None:
            scheme, _, given = auth.partition(" ")
            if scheme.lower() != "bearer" or not given.strip():
                raise _bad_auth("Authorization header not understood (expected 'Bearer TOKEN')")
            given = given.strip()
        else:
            given = request.headers.get("X-Acqflow-Token") or request.query.get("token") or ""
        if not given:
            raise _bad_auth("this needs the token")
        try:
            check_token(given)
        except ValueError:
            raise _bad_auth("malformed token (printable ASCII expected)") from None
        return given

    def _token_ok(self, request: web.Request, needed: bool) -> None:
        if needed and not hmac.compare_digest(self._given_token(request).encode(), self.token.encode()):
            raise _json_error(web.HTTPForbidden, "wrong token")

    @web.middleware
    async def _guard(self, request: web.Request, handler):
        """Controls always need the token, everything but the static page needs it off
        loopback; on loopback, a foreign Host header (DNS rebinding) is refused, and so
        is a WebSocket opened by a page of another origin."""
        if self.loopback and request.host.rsplit(":", 1)[0].strip("[]") not in \
                ("127.0.0.1", "localhost", "::1", self.host):
            raise _json_error(web.HTTPForbidden, f"unexpected Host header {request.host[:60]!r}")
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin and origin.split("://", 1)[-1] != request.host:
            raise _json_error(web.HTTPForbidden, f"WebSocket from another origin {origin[:60]!r}")
        static = request.path == "/" or request.path.startswith("/static/")
        self._token_ok(request, request.method == "POST" or (not self.loopback and not static))
        self._conn_guard.busy(request.protocol, +1)      # not idle while handled (WebSockets: ever)
        try:
            return await handler(request)
        finally:
            self._conn_guard.busy(request.protocol, -1)

    # -- handlers --------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def _graph(self, request: web.Request) -> web.Response:
        return json_response(graph_json(self.manager, self.summary))

    async def _stats(self, request: web.Request) -> web.Response:
        if self.summary is None:
            # wait for the ticker's first poll: a poll of our own, right after it, would give
            # rates over the few ms between the two instead of over ``interval``
            await self._polled.wait()
        return json_response({**stats_json(self.summary), "web": self._counts_now()})

    async def _control(self, request: web.Request) -> web.Response:
        m = request.match_info
        call: Callable[..., Any]
        args: tuple[str, ...]
        if request.path.startswith("/api/nodes/"):
            call, args, what = node_action, (m["name"], m["action"]), f"node {m['name']}"
        elif request.path.startswith("/api/groups/"):
            call, args, what = group_action, (m["name"], m["action"]), f"group {m['name']}"
        else:
            call, args, what = recording_action, (m["action"],), "recording"
        try:
            states = await self._loop.run_in_executor(self._controls, call, self.manager, *args)
        except ControlError as exc:
            return json_response({"ok": False, "error": str(exc)}, status=exc.status)
        log.warning("web monitor: %s %s (from %s)", args[-1], what, request.remote)
        return json_response({"ok": True, "states": states})

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        if len(self._clients) >= self.limits.max_websockets:
            behind_ws, behind = max(self._clients.items(), key=lambda item: item[1].lag)
            if not behind.lag:
                raise _json_error(web.HTTPServiceUnavailable, f"the web monitor serves at most "
                                                              f"{self.limits.max_websockets} live-update clients")
            behind.disconnect(f"a new client needed its place and it was {behind.lag} updates behind")
            self._clients.pop(behind_ws, None)        # its handler ends (and counts it) by itself
        lim = self.limits
        sock = request.transport.get_extra_info("socket") if request.transport else None
        if sock is not None and lim.ws_send_buffer:   # bounds what a client that never reads pins
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, lim.ws_send_buffer)
        ws = web.WebSocketResponse(heartbeat=10.0, max_msg_size=MAX_CLIENT_MESSAGE)
        await ws.prepare(request)
        self._clients[ws] = client = Subscriber(ws, request.transport, lim.ws_queue, lim.ws_max_lag,
                                                lim.ws_max_buffer)
        try:
            if self.summary is not None:
                client.offer(dumps(self._update(set())))
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    wanted = json.loads(msg.data).get("previews", [])
                    client.wanted = {str(k) for k in wanted[:MAX_PREVIEWS]}
                except (ValueError, AttributeError, TypeError):
                    client.offer(dumps({"type": "error", "error": f"bad message {msg.data[:60]!r}"}))
                await self._sync_taps()
        finally:
            client.close()
            self.slow_clients += client.cut
            self._dropped += client.dropped
            self._clients.pop(ws, None)
            await self._sync_taps()
        return ws

    async def _close_clients(self, app: web.Application) -> None:
        clients = list(self._clients.items())
        for _, client in clients:
            client.close()
        await asyncio.gather(*(asyncio.wait_for(ws.close(code=1001, message=b"server shutdown"), 1.0)
                               for ws, _ in clients), return_exceptions=True)
        for _, client in clients:           # any that did not answer in time
            if client.transport is not None:
                client.transport.abort()

    # -- live updates ----------------------------------------------------------
    async def _poll(self) -> None:
        try:
            stats = await self._loop.run_in_executor(self._polls, self.manager.stats)
        except Exception as exc:            # a closing manager, a dead group's timeout
            self.error = f"stats unavailable: {type(exc).__name__}: {exc}"
        else:
            self.summary, self._last_stats, self.error = summarize(stats, self._last_stats), stats, None
        finally:
            self._polled.set()

    async def _tick(self) -> None:
        """Poll, then queue one update per client (never waiting for any of them)."""
        while True:
            await self._poll()
            texts: dict[frozenset[str], str] = {}
            for client in list(self._clients.values()):
                key = frozenset(client.wanted)
                if key not in texts:
                    texts[key] = dumps(self._update(key))
                client.offer(texts[key])
            await asyncio.sleep(self.interval)

    def _update(self, wanted: set[str] | frozenset[str]) -> dict[str, Any]:
        previews = {}
        for key in sorted(wanted):
            tap = self._taps.get(key)
            if isinstance(tap, PreviewTap):
                previews[key] = tap.read()
            elif isinstance(tap, str):
                previews[key] = {"kind": "error", "error": tap}
        return {"type": "update", "error": self.error, "stats": stats_json(self.summary),
                "graph": graph_json(self.manager, self.summary), "previews": previews}

    async def _sync_taps(self) -> None:
        """Open a tap for every preview a client wants, close those nobody wants."""
        async with self._tap_lock:
            wanted = set().union(*(c.wanted for c in self._clients.values()))
            for key in set(self._taps) - wanted:
                tap = self._taps.pop(key)
                if isinstance(tap, PreviewTap):
                    await self._loop.run_in_executor(self._controls, tap.close)
            for key in wanted - set(self._taps):
                self._taps[key] = await self._loop.run_in_executor(self._controls, self._open_tap, key)

    def _open_tap(self, key: str) -> PreviewTap | str:
        node, _, output = key.partition(".")
        try:
            params = self.manager.output_params(node, output)
            return PreviewTap(key, params, seconds=self.preview_seconds)
        except PreviewError as exc:
            return str(exc)
        except Exception as exc:
            return f"cannot preview {key[:80]}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
