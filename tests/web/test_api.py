"""The web monitor's HTTP API and WebSocket against the real server on 127.0.0.1:0."""
import asyncio
import base64
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from acqflow.manager import Manager
from acqflow.web import WebMonitor, serve_web
from acqflow.web.preview import frame_rgba
from acqflow.web.server import parse_address
from acqflow.testing import wait_for

from .conftest import TOKEN, call

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODES = {"device", "bandpass", "recorder", "camera"}


def node_state(manager, name):
    return manager.node(name).state._get_value()


@pytest.mark.parametrize("text, expected", [("8080", ("127.0.0.1", 8080)), (":0", ("127.0.0.1", 0)),
                                            ("0.0.0.0:80", ("0.0.0.0", 80)), ("[::1]:9", ("::1", 9)),
                                            (8080, ("127.0.0.1", 8080))])
def test_parse_address(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("bad", ["nope", "host:port", "1:99999", ""])
def test_bad_address_is_named(bad):
    with pytest.raises(ValueError, match=f"bad web address {bad!r}"):
        parse_address(bad)


def test_graph_lists_nodes_groups_and_connections(web):
    status, graph = call(web.url + "api/graph")
    assert status == 200
    nodes = {n["name"]: n for n in graph["nodes"]}
    assert set(nodes) == NODES
    assert nodes["device"]["type"] == "SyntheticSignal" and nodes["device"]["group"] == "acquisition"
    assert all(n["host"] == "localhost" and n["state"] == "running" for n in nodes.values())
    assert nodes["recorder"]["recorder"] and not nodes["device"]["recorder"]
    links = {(c["source"], c["output"], c["target"], c["input"]): c for c in graph["connections"]}
    assert set(links) == {("device", "signals", "bandpass", "input"), ("device", "signals", "recorder", "raw"),
                          ("bandpass", "output", "recorder", "filtered")}
    assert all(c["protocol"] == "ipc" for c in links.values())     # across processes: private ipc
    assert {k[0]: c["transfermode"] for k, c in links.items()} == {"device": "plaindata", "bandpass": "sharedmem"}
    assert nodes["camera"]["outputs"]["level"]["protocol"] == "inproc"
    assert {g["name"] for g in graph["groups"]} == {"acquisition", "processing", "recording", "camera"}


def test_stats_give_rates_latency_losses_and_cpu(manager):
    # Its own monitor polling every second: a rate is samples received between two polls
    # over the time between them, and chunks delivered a few 100 ms late on a loaded
    # machine would move a rate over the shared monitor's 0.25 s by a factor 2.
    web = manager.serve_web("127.0.0.1:0", token=TOKEN, announce=False, interval=1.0)
    try:
        def rates():
            st = call(web.url + "api/stats")[1]
            return st if st["streams"] and all(s["rate"] for s in st["streams"]) else None
        stats = wait_for(rates, timeout=60, message="rates in /api/stats")
    finally:
        web.close()
    assert stats["interval"] >= 1.0
    for s in stats["streams"]:
        assert 500 < s["rate"] < 2000, s            # about 1000 samples/s
        assert s["sample_rate"] == 1000.0 and s["latency"] is not None
        assert s["gaps"] == 0 and s["dropped"] == 0
    assert set(stats["nodes"]) == NODES
    assert all(n["state"] == "running" and n["cpu"] is not None for n in stats["nodes"].values())


class SlowStatsManager(Manager):
    """A Manager whose groups answer stats() 1 s late, as on a loaded machine."""

    def stats(self):
        time.sleep(1.0)
        return super().stats()


def test_the_first_stats_request_waits_for_the_first_poll():
    """A request made while the monitor's first poll is under way used to poll again right
    after it: rates over the length of one poll instead of over ``interval``."""
    with SlowStatsManager() as slow:
        monitor = WebMonitor(slow, token=TOKEN, interval=3.0)
        try:
            status, stats = call(monitor.url + "api/stats")
            assert status == 200 and stats["interval"] is None, stats   # one poll: no rates yet
            stats = wait_for(lambda: call(monitor.url + "api/stats")[1]["interval"], timeout=60,
                             message="a second poll")
            assert stats >= 3.0
        finally:
            monitor.close()


def test_controls_need_the_token(web, manager):
    url = web.url + "api/nodes/device/stop"
    status, body = call(url, "POST")
    assert status == 401 and "token" in body["error"]
    assert call(url, "POST", token="wrong")[0] == 403
    assert call(url + "?token=wrong", "POST")[0] == 403
    assert node_state(manager, "device") == "running"


def test_stop_start_restart_a_node_with_the_token(web, manager):
    status, body = call(web.url + "api/nodes/bandpass/stop", "POST", token=TOKEN)
    assert status == 200 and body == {"ok": True, "states": {"bandpass": "stopped"}}
    assert node_state(manager, "bandpass") == "stopped"
    status, body = call(web.url + "api/nodes/bandpass/stop", "POST", token=TOKEN)
    assert status == 200                             # already stopped: nothing to do
    assert call(web.url + "api/nodes/bandpass/start", "POST", token=TOKEN)[1]["states"] == {"bandpass": "running"}
    assert call(web.url + "api/nodes/bandpass/restart", "POST", token=TOKEN)[1]["states"] == {"bandpass": "running"}


def test_group_and_recording_controls(web, manager):
    status, body = call(web.url + "api/groups/processing/restart", "POST", token=TOKEN)
    assert status == 200 and body["states"] == {"bandpass": "running"}
    assert call(web.url + "api/recording/stop", "POST", token=TOKEN)[1]["states"] == {"recorder": "stopped"}
    assert node_state(manager, "recorder") == "stopped"
    assert call(web.url + "api/recording/start", "POST", token=TOKEN)[1]["states"] == {"recorder": "running"}


@pytest.mark.parametrize("path, status, words", [
    ("api/nodes/nosuch/stop", 404, "no node named 'nosuch'"),
    ("api/groups/nosuch/stop", 404, "no node group named 'nosuch'"),
    ("api/nodes/device/explode", 400, "unknown action 'explode'"),
    ("api/recording/pause", 400, "unknown recording action 'pause'")])
def test_bad_controls_get_a_clear_answer(web, path, status, words):
    code, body = call(web.url + path, "POST", token=TOKEN)
    assert code == status and words in body["error"] and body["ok"] is False


def test_foreign_host_header_is_refused_on_loopback(web):
    assert call(web.url + "api/graph", headers={"Host": "attacker.example:80"})[0] == 403


def test_websocket_from_another_origin_is_refused(web):
    import aiohttp

    async def attempt(origin):
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(web.url.replace("http", "ws") + "ws", origin=origin) as ws:
                    return (await ws.receive_json(timeout=30))["type"]
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status
    assert asyncio.run(attempt("http://attacker.example")) == 403
    assert asyncio.run(attempt(web.url.rstrip("/"))) == "update"


def test_other_address_needs_the_token_for_everything(manager):
    with WebMonitor(manager, "0.0.0.0", 0, token=TOKEN) as monitor:
        assert "not loopback: every request needs the token" in monitor.banner()
        base = f"http://127.0.0.1:{monitor.port}/"
        assert call(base + "api/graph")[0] == 401
        assert call(base + "api/stats", token="nope")[0] == 403
        assert call(base + "api/graph", token=TOKEN)[0] == 200
        assert call(base + "api/graph?token=" + TOKEN)[0] == 200


def test_serve_web_announces_url_and_token(manager, capsys):
    monitor = serve_web(manager, "127.0.0.1:0")
    try:
        out = capsys.readouterr().out
        assert monitor.url in out and monitor.token in out and len(monitor.token) >= 16
    finally:
        monitor.close()


async def _ws_until(url, wanted, check, timeout=30.0):
    import aiohttp
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            await ws.send_json({"previews": wanted})
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while loop.time() < deadline:
                msg = await ws.receive_json(timeout=timeout)
                if check(msg):
                    return msg
    raise AssertionError(f"no matching update within {timeout} s")


def test_websocket_updates_and_previews(web):
    url = web.url.replace("http", "ws") + "ws"

    def ready(msg):
        p = msg["previews"]
        return msg["type"] == "update" and len(p) == 3 and len((p["device.signals"].get("data") or [[]])[0]) > 50 \
            and p["camera.frames"].get("index")
    msg = asyncio.run(_ws_until(url, ["device.signals", "camera.frames", "camera.level"], ready))
    filtered = asyncio.run(_ws_until(url, ["bandpass.output"], lambda m: len(
        (m["previews"].get("bandpass.output", {}).get("data") or [[]])[0]) > 50))["previews"]["bandpass.output"]
    assert len(filtered["data"]) == 4            # read from the output's shared memory
    assert {n["name"] for n in msg["graph"]["nodes"]} == NODES and msg["stats"]["streams"]
    sig = msg["previews"]["device.signals"]
    assert sig["kind"] == "signal" and len(sig["data"]) == 4 and sig["channels"] == 4
    assert max(max(abs(v) for v in ch) for ch in sig["data"]) > 0.5      # the device's sines
    frame = msg["previews"]["camera.frames"]
    assert (frame["width"], frame["height"]) == (64, 48)
    rgba = np.frombuffer(base64.b64decode(frame["rgba"]), np.uint8).reshape(48, 64, 4)
    assert (rgba[:, :, 0].max(axis=0) == 255).sum() == 1 and (rgba[:, :, 3] == 255).all()   # the red bar
    assert "inproc" in msg["previews"]["camera.level"]["error"]


def test_frame_rgba_converts_gray_bgr_and_float():
    gray = frame_rgba(np.full((4, 6), 7, np.uint8))
    assert (gray["width"], gray["height"]) == (6, 4)
    assert list(base64.b64decode(gray["rgba"])[:4]) == [7, 7, 7, 255]
    bgr = np.zeros((2, 2, 3), np.uint8)
    bgr[..., 0] = 200                                   # blue in OpenCV's order
    assert list(base64.b64decode(frame_rgba(bgr, bgr=True)["rgba"])[:4]) == [0, 0, 200, 255]
    big = frame_rgba(np.tile(np.linspace(0, 1, 1000), (10, 1)), max_width=320)
    assert big["width"] == 250                          # every 4th pixel
    row = np.frombuffer(base64.b64decode(big["rgba"]), np.uint8).reshape(3, 250, 4)[0, :, 0]
    assert row[0] == 0 and row[-1] >= 250 and (np.diff(row.astype(int)) >= 0).all()


def test_cli_run_web_flag(tmp_path):
    graph = tmp_path / "g.yaml"
    graph.write_text("nodes:\n  dev: {type: SyntheticSignal, params: {channels: 2}}\n")
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-m", "acqflow.commands", "run", str(graph), "--duration", "1.5",
                          "--interval", "0.3", "--web", "127.0.0.1:0", "--web-token", "abc"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "web monitor: http://127.0.0.1:" in out.stdout and "token abc" in out.stdout
    assert out.stdout.count("acqflow run: 1 nodes") >= 4          # several table refreshes...
    assert out.stdout.count("token abc") == 1, out.stdout          # ...and the token line once
    bad = subprocess.run([sys.executable, "-m", "acqflow.commands", "run", str(graph), "--duration", "1",
                          "--web", "localhost:http"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "bad web address 'localhost:http'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_json_is_strict():
    from acqflow.web.server import dumps
    assert dumps({"a": float("nan"), "b": [np.float32(1.5), np.int64(2)], "c": float("inf")}) == \
        '{"a": null, "b": [1.5, 2], "c": null}'


def test_a_dead_group_is_refused_for_its_nodes_and_rebuilt_by_a_group_restart(web, manager):
    """Last in this module: it kills the processing group's process."""
    manager.groups["processing"].spawner.kill()
    wait_for(lambda: manager.groups["processing"].state == "dead", timeout=30, message="group dead")
    status, body = call(web.url + "api/nodes/bandpass/start", "POST", token=TOKEN)
    assert status == 409 and "node group 'processing', which is dead" in body["error"]
    wait_for(lambda: any(n["name"] == "bandpass" and n["state"] == "error"
                         for n in call(web.url + "api/graph")[1]["nodes"]), timeout=30)
    status, body = call(web.url + "api/groups/processing/restart", "POST", token=TOKEN)
    assert status == 200 and body["states"] == {"bandpass": "running"}, body

    def flowing():
        st = call(web.url + "api/stats")[1]
        return any(s["target"] == "recorder" and s["input"] == "filtered" and s["rate"] for s in st["streams"]) \
            and st["groups"]["processing"]["restarts"] == 1
    wait_for(flowing, timeout=30, message="bandpass -> recorder flowing again")
