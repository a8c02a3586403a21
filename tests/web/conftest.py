"""A running graph (the demo's, plus a video source) with a web monitor on 127.0.0.1:0."""
import json
import urllib.error
import urllib.request

import pytest

pytest.importorskip("aiohttp", reason="the web monitor needs the web extra")

from acqflow.dataflow.graph.graphspec import NodeSpec  # noqa: E402
from acqflow.commands.demo import demo_graph  # noqa: E402
from acqflow.manager import Manager  # noqa: E402
from acqflow.manager.build import build_graph  # noqa: E402

TOKEN = "test-token-123"


@pytest.fixture(scope="module")
def manager(tmp_path_factory):
    """The demo graph (device -> bandpass -> recorder, 4 channels; bandpass.output in
    shared memory) and a video source (camera.frames over tcp; camera.level has no
    consumer, so it stays inproc)."""
    spec = demo_graph(str(tmp_path_factory.mktemp("web") / "rec"), channels=4)
    spec.imports.append("tests.web.webnodes")
    spec.nodes["bandpass"].outputs["output"] = {"transfermode": "sharedmem"}
    spec.groups["camera"] = {}
    spec.nodes["camera"] = NodeSpec("camera", "Frames", "camera", {"fps": 20.0},
                                    {"frames": {"protocol": "tcp"}, "level": {}})
    with Manager() as m:
        build_graph(spec, m)
        m.start_all()
        yield m


@pytest.fixture(scope="module")
def web(manager):
    monitor = manager.serve_web("127.0.0.1:0", token=TOKEN, announce=False, interval=0.25)
    yield monitor
    monitor.close()


def call(url: str, method: str = "GET", token: str | None = None, headers: dict | None = None):
    """(status, JSON body) of a request to the real server."""
    headers = dict(headers or {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
