"""The web monitor under abuse, against the real server on 127.0.0.1: idle connections
past the cap, descriptor exhaustion, WebSocket clients that never read, malformed
Authorization headers (docs/monitor.md "Limits", docs/faults-and-soak.md)."""
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from contextlib import ExitStack

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acqflow.web import WebMonitor
from acqflow.web.limits import EveryMinute, Limits
from acqflow.testing import examples, wait_for

from .conftest import TOKEN, call

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTROL = "api/nodes/device/start"      # answers 200 whether the device runs or not
PREVIEWS = ["device.signals", "camera.frames", "bandpass.output", "camera.level"]


def connect(port: int, rcvbuf: int | None = None, timeout: float = 10.0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    return sock


def raw_status(port: int, head: bytes) -> int:
    """The status of one raw HTTP request (``head``: request line and headers, bytes as given)."""
    with connect(port) as sock:
        sock.sendall(head + b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def raw_websocket(port: int, previews: list[str]) -> socket.socket:
    """A WebSocket client that completes the upgrade, asks for ``previews``, and then
    never reads (a 4 KiB receive buffer)."""
    sock = connect(port, rcvbuf=4096)
    sock.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    payload = json.dumps({"previews": previews}).encode()
    mask = os.urandom(4)
    assert len(payload) < 126
    sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    return sock


def web_counts(url: str) -> dict:
    return call(url + "api/stats")[1]["web"]


def control(url: str) -> dict | None:
    """The answer to a control, None if refused (503) or reset: a client would retry."""
    try:
        status, body = call(url + CONTROL, "POST", token=TOKEN)
    except OSError:
        return None
    return body if status == 200 else None


@pytest.fixture
def monitor(manager, request):
    """A monitor of the module's graph with the limits the test's parametrization gives."""
    with WebMonitor(manager, token=TOKEN, interval=0.25, **getattr(request, "param", {})) as mon:
        yield mon


@pytest.mark.parametrize("monitor", [{"max_connections": 50, "max_websockets": 4}], indirect=True)
def test_idle_connections_past_the_cap_leave_the_controls_reachable(monitor):
    with ExitStack() as stack:
        for _ in range(200):                 # 4 times the cap, never sending a byte
            stack.enter_context(connect(monitor.port))
        body = wait_for(lambda: control(monitor.url), timeout=15, message="a control answered past 200 idle ones")
        assert body["ok"]
        counts = web_counts(monitor.url)
        assert counts["open"] <= 50 and counts["evicted"] + counts["refused"] >= 150, counts


@pytest.mark.parametrize("monitor", [{"max_connections": 20, "max_websockets": 2, "idle_timeout": 1.0,
                                      "evict_after": 60.0}], indirect=True)
def test_a_full_server_refuses_with_503_then_closes_idle_connections(monitor):
    with ExitStack() as stack:
        idle = [stack.enter_context(connect(monitor.port)) for _ in range(20)]
        wait_for(lambda: monitor.counts()["open"] == 20, timeout=10, message="20 connections open")
        late = stack.enter_context(connect(monitor.port))
        assert late.recv(4096).startswith(b"HTTP/1.1 503 Service Unavailable")
        assert all(sock.recv(1) == b"" for sock in idle)          # closed after idle_timeout
        assert call(monitor.url + CONTROL, "POST", token=TOKEN)[0] == 200


def test_descriptor_exhaustion_is_logged_once_and_the_controls_answer(tmp_path):
    """A manager with 160 descriptors and no connection cap: idle connections exhaust it
    again and again; one line says so, the controls still answer."""
    err = tmp_path / "stderr.txt"
    env = dict(os.environ, PYTHONPATH=ROOT)
    with open(err, "wb") as stderr, ExitStack() as stack:
        child = subprocess.Popen([sys.executable, "-m", "tests.web.fdlimited", "160", "2000", TOKEN], cwd=ROOT,
                                 env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True)
        stack.callback(child.wait, 60)
        stack.callback(child.stdin.close)
        port = int(child.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while web_counts(url)["exhausted"] < 3 and time.monotonic() < deadline:
            for _ in range(60):
                try:
                    stack.enter_context(connect(port, timeout=2.0))
                except OSError:                  # a full backlog while it waits: fine
                    break
        assert web_counts(url)["exhausted"] >= 3
        assert wait_for(lambda: control(url), timeout=15, message="a control answered")["ok"]
    text = err.read_text()
    assert text.count("cannot accept connections: Too many open files") == 1, text[:3000]
    assert "Traceback" not in text, text[:3000]


def test_websocket_clients_that_never_read_do_not_delay_the_others(manager):
    import aiohttp
    slow, interval = 30, 0.1
    monitor = WebMonitor(manager, token=TOKEN, interval=interval, max_connections=100, max_websockets=40)

    async def updates(count: int, timeout: float) -> int:
        """How many of ``count`` updates a reading client receives within ``timeout`` s."""
        got, loop = 0, asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(monitor.url.replace("http", "ws") + "ws") as ws:
                while got < count and loop.time() < deadline:
                    try:
                        msg = await ws.receive_json(timeout=deadline - loop.time())
                    except asyncio.TimeoutError:
                        break
                    got += msg["type"] == "update"
        return got

    with monitor, ExitStack() as stack:
        for _ in range(slow):                  # each update to them is ~80 kB of previews
            stack.enter_context(raw_websocket(monitor.port, PREVIEWS))
        # 100 updates take 10 s; their previews fill even 4 MiB of kernel buffers in ~5 s, and from
        # then on a broadcast that waits for stuck clients takes seconds per update
        assert asyncio.run(updates(100, timeout=30.0)) == 100
        wait_for(lambda: monitor.counts()["slow_clients"] == slow, timeout=30,
                 message="the clients that never read are disconnected")
        counts = monitor.counts()
        assert counts["websockets"] == 0 and counts["dropped_updates"] >= slow, counts


def test_websockets_past_their_cap_get_503(manager):
    with WebMonitor(manager, token=TOKEN, interval=0.25, max_connections=20, max_websockets=2) as mon, \
            ExitStack() as stack:
        for _ in range(2):
            stack.enter_context(raw_websocket(mon.port, []))
        head = b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        assert raw_status(mon.port, head) == 503


def test_a_new_websocket_client_takes_the_place_of_one_behind(manager):
    import aiohttp

    async def one_update(url):
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url) as ws:
                return (await ws.receive_json(timeout=30))["type"]
    with WebMonitor(manager, token=TOKEN, interval=0.1, max_connections=20, max_websockets=2,
                    ws_max_lag=100000) as mon, ExitStack() as stack:
        for _ in range(2):
            stack.enter_context(raw_websocket(mon.port, PREVIEWS))
        wait_for(lambda: all(c.lag for c in list(mon._clients.values())), timeout=30,
                 message="both clients that never read fall behind")
        assert asyncio.run(one_update(mon.url.replace("http", "ws") + "ws")) == "update"
        assert mon.counts()["slow_clients"] >= 1


MALFORMED = [b"Authorization: \xff\xfe\xfd", b"Authorization: Bearer \xff" + TOKEN.encode(),
             b"Authorization: Bearer", b"Authorization: Bearer    ", b"Authorization: garbage",
             b"Authorization: Basic dXNlcjpwYXNz", b"Authorization: Bearer tok\xc3\xa9n",
             b"X-Acqflow-Token: \xff\xfe", b"Authorization: Bearer two words"]


@pytest.mark.parametrize("header", MALFORMED)
def test_malformed_authorization_gets_401(monitor, header):
    assert raw_status(monitor.port, b"POST /" + CONTROL.encode() + b" HTTP/1.1\r\n" + header + b"\r\n") == 401


def test_malformed_query_token_gets_401(monitor):
    assert raw_status(monitor.port, b"POST /" + CONTROL.encode() + b"?token=%FF%FE HTTP/1.1\r\n") == 401
    assert raw_status(monitor.port, b"POST /" + CONTROL.encode() + b" HTTP/1.1\r\n"
                      b"authorization: bearer " + TOKEN.encode() + b"\r\n") == 200     # scheme: any case


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.binary(min_size=0, max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b))
def test_no_authorization_value_gives_a_server_error(monitor, value):
    status = raw_status(monitor.port, b"POST /" + CONTROL.encode() + b" HTTP/1.1\r\nAuthorization: " + value + b"\r\n")
    assert status in (400, 401, 403), (value, status)


def test_garbage_requests_are_logged_in_one_line_a_minute(monitor, caplog):
    with caplog.at_level("WARNING"):
        for _ in range(30):
            assert raw_status(monitor.port, b"GET /api/graph?token=\xff HTTP/1.1\r\n") == 400
    said = [r for r in caplog.records if r.name.startswith(("acqflow.web", "aiohttp"))]
    assert len(said) <= 1 and not any(r.exc_info for r in said), [r.getMessage() for r in said]


def test_a_bad_configured_token_is_refused(manager):
    with pytest.raises(ValueError, match="bad web token 'caf\u00e9'"):
        WebMonitor(manager, token="caf\u00e9")
    with pytest.raises(ValueError, match="max_websockets must be below max_connections"):
        Limits(max_connections=10, max_websockets=10)


def test_every_minute_holds_back_repeats(caplog):
    say = EveryMinute(period=60.0)
    with caplog.at_level("WARNING", logger="acqflow.web"):
        assert say("k", "out of descriptors") and not say("k", "out of descriptors") and say("other", "x")
    assert [r.getMessage() for r in caplog.records] == ["out of descriptors; said at most once a minute",
                                                        "x; said at most once a minute"]
