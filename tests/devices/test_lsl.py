"""LSLInlet / LSLOutlet against real liblsl, with plain pylsl in another process."""
import json
import os
import subprocess
import sys
import uuid

import numpy as np
import pytest

from acqflow import OutputStream, StreamClosed
from acqflow.dataflow.streams import clock
from acqflow.testing import read_node, wait_for

pylsl = pytest.importorskip("pylsl")
from acqflow.devices import EventSource, LSLInlet  # noqa: E402
from acqflow.nodes.lsl_outlet import LSLOutlet  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Peer:
    def __init__(self, mode, **cfg):
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.devices.lsl_peer", mode, json.dumps(cfg)],
                                     cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            pytest.fail(f"lsl peer ended: {self.proc.stderr.read()[-3000:]}")
        return json.loads(line)

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()


@pytest.fixture
def peer():
    started = []
    yield lambda mode, **cfg: started.append(Peer(mode, **cfg)) or started[-1]
    for p in started:
        if p.proc.poll() is None:
            p.proc.kill()
        p.proc.wait(10)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def connect_inlet(**kw):
    node = LSLInlet(name="lsl")
    sig, ts = read_node(node, ["signals", "timestamps"], **kw)
    return node, sig, ts


def take(inp, n):
    chunks = []
    while sum(len(d) for d in chunks) < n:
        chunks.append(inp.recv(timeout=10000)[1])
    return np.concatenate(chunks)


@pytest.mark.parametrize("fmt, dtype", [("cf_float32", "float32"), ("cf_int16", "int16")])
def test_inlet_receives_exact_values_and_converted_times(peer, fmt, dtype):
    name, n, rate = unique("acq-in"), 1000, 500.0
    p = peer("outlet", name=name, type="EEG", channels=3, rate=rate, format=fmt, dtype=dtype, n=n)
    assert p.read() == {"ready": True}
    node, sig, ts = connect_inlet(name=name, type="EEG", resolve_timeout=10.0)
    params = node.outputs["signals"].params
    assert (params["shape"], params["sample_rate"], params["lsl_name"]) == ((-1, 3), rate, name)
    assert np.dtype(params["dtype"]) == np.dtype(dtype) and params["irregular_rate"] is False
    node.start()
    data, times = take(sig, n), take(ts, n)
    t0 = p.read()["t0"]
    p.send("close")
    assert p.read() == {"closed": True}
    assert data.dtype == np.dtype(dtype) and data.shape == (n, 3)
    np.testing.assert_array_equal(data, np.arange(n * 3).reshape(n, 3).astype(dtype))
    # LSL stamps t0 + k / rate, in our clock: same spacing, near time.time()
    np.testing.assert_allclose(np.diff(times[:, 0]), 1 / rate, atol=1e-6)
    offset = times[0, 0] - t0           # local_clock -> time.time(), same machine
    assert abs(offset - (clock.now() - pylsl.local_clock())) < 0.05
    # each chunk's time is its last sample's time (exact stamps: its converted stamp); the
    # input's model follows them
    assert sig.last_sample_time == ts.last_sample_time == pytest.approx(times[-1, 0], abs=1e-6)
    np.testing.assert_allclose(sig.time_of(np.arange(n)), times[:, 0], atol=1e-5)
    assert abs(sig.time_model.drift_ppm) < 1
    # the outlet closing is a lost device: error state, outputs closed (no hang)
    with pytest.raises(StreamClosed):
        while True:
            sig.recv(timeout=30000)
    wait_for(lambda: node.state == "error", timeout=30)
    assert f"LSL stream {name!r} lost" in node.error_reason and f"after {n} samples" in node.error_reason
    node.close()
    assert node.received == n and sig.gaps == 0


def test_marker_stream_becomes_events(peer):
    name = unique("acq-markers")
    p = peer("outlet", name=name, type="Markers", channels=1, rate=0.0, format="cf_string", n=5)
    p.read()
    node, sig, ts = connect_inlet(name=name, label_size=16)
    params = node.outputs["signals"].params
    assert params["streamtype"] == "event" and params["irregular_rate"] is True
    node.start()
    events = take(sig, 5)
    t0 = p.read()["t0"]
    p.send("close")
    node.close()
    assert [e.decode() for e in events["label"]] == [f"marker {k}" for k in range(5)]
    assert (events["index"] == -1).all()
    np.testing.assert_allclose(np.diff(events["time"]), 0.01, atol=1e-6)
    assert abs(events["time"][0] - t0 - (clock.now() - pylsl.local_clock())) < 0.05


def test_outlet_is_received_by_plain_pylsl(peer):
    name, n = unique("acq-out"), 600
    src = OutputStream(name="src")
    src.configure(dtype="float64", shape=(-1, 2), sample_rate=250.0, protocol="inproc",
                  channel_info=[{"name": "Fz", "units": "uV"}, {"name": "Cz"}])
    node = LSLOutlet(name="lslout")
    node.configure(name=name, type="EEG", source_id="t1")
    node.input.connect(src)
    node.initialize()
    node.start()
    p = peer("inlet", name=name, n=n)
    hello = p.read()
    assert (hello["channels"], hello["rate"], hello["labels"]) == (2, 250.0, ["Fz", "Cz"])
    assert hello["format"] == pylsl.cf_double64
    wait_for(node.have_consumers)
    mirror = LSLInlet()                                  # our inlet reads the labels too
    mirror.configure(name=name, resolve_timeout=10.0)
    assert mirror.outputs["signals"].spec["channel_info"] == [{"name": "Fz", "units": "uV"},
                                                              {"name": "Cz"}]
    mirror.close()
    data = np.arange(n * 2, dtype="float64").reshape(n, 2) / 7.0
    for k in range(0, n, 60):
        src.send(data[k:k + 60])
    got = p.read()
    src.close()
    wait_for(lambda: node.input_ended)
    node.close()
    np.testing.assert_array_equal(np.array(got["samples"]), data)
    assert len(got["stamps"]) == n and node.pushed == n


def test_events_round_trip_through_lsl():
    """EventSource -> LSLOutlet -> (liblsl) -> LSLInlet, all in this process."""
    name = unique("acq-ev")
    src = EventSource(name="ev")
    src.configure(label_size=16)
    src.output.configure(protocol="inproc")
    src.initialize()
    out = LSLOutlet()
    out.configure(name=name, type="Markers")
    out.input.connect(src.output)
    out.initialize()
    out.start()
    src.start()
    node, sig, _ = connect_inlet(name=name, label_size=16)
    node.start()
    assert out.wait_for_consumers(10)
    stamp = clock.now() - 1.0
    src.push_event("go", time=stamp)
    src.push_event("halt")
    events = take(sig, 2)
    for n_ in (node, out, src):
        n_.close()
    assert [e.decode() for e in events["label"]] == ["go", "halt"]
    assert abs(events["time"][0] - stamp) < 0.01           # our clock -> LSL -> our clock


def test_a_chunk_time_is_fitted_to_all_its_stamps():
    """LSL stamps jitter: a chunk stamped with its last sample's stamp alone moved the time
    model fitted to chunk times by that stamp's error, and every marker placed on it (a
    loaded machine pulls one big chunk at start: the markers in it were all off by it)."""
    name, n, rate = unique("acq-jitter"), 1000, 1000.0
    outlet = pylsl.StreamOutlet(pylsl.StreamInfo(name, "EEG", 1, rate, pylsl.cf_float32, name))
    node, sig, ts = connect_inlet(name=name, max_chunk=n, resolve_timeout=10.0)
    try:
        assert outlet.wait_for_consumers(10)
        t0 = pylsl.local_clock()
        true = t0 + np.arange(n) / rate
        stamps = true + np.random.default_rng(1).normal(0, 0.001, n)
        stamps[-1] = true[-1] + 0.005                  # the last stamp 5 ms late
        outlet.push_chunk(np.arange(n, dtype=np.float32)[:, None], stamps.tolist())
        wait_for(lambda: node._inlet.samples_available() >= n, timeout=30)
        node.start()                                   # one pull: the whole chunk
        index, data = sig.recv(timeout=30000)
        times = ts.recv(timeout=30000)[1][:, 0]
    finally:
        node.close()
    assert index == n and len(data) == n
    to_ours = times[0] - stamps[0]                     # LSL clock -> ours, as converted
    np.testing.assert_allclose(times - to_ours, stamps, atol=1e-6)   # the raw stamps, each
    assert abs(sig.last_sample_time - to_ours - true[-1]) < 0.3e-3   # the chunk: its true end


def test_resolve_timeout_lists_visible_streams(peer):
    other = unique("acq-visible")
    p = peer("outlet", name=other, type="EEG", channels=1, rate=10.0, format="cf_float32",
             dtype="float32", n=0)
    p.read()
    node = LSLInlet()
    with pytest.raises(RuntimeError, match=r"no LSL stream with name='nope-.*' found within 0.5 s; "
                                           r"visible streams: .*" + other):
        node.configure(name=unique("nope"), resolve_timeout=0.5)
    assert node.state == "new"
    with pytest.raises(ValueError, match="give at least one of name, type, source_id"):
        node.configure()


def test_declared_streamtype_must_match_the_resolved_stream(peer):
    name = unique("acq-kind")
    p = peer("outlet", name=name, type="Markers", channels=1, rate=0.0, format="cf_string", n=0)
    p.read()
    node = LSLInlet()
    with pytest.raises(ValueError, match=rf"LSL stream '{name}' holds strings \(markers\): its signals "
                                         r"are 'event', not streamtype='analogsignal'"):
        node.configure(name=name, streamtype="analogsignal", resolve_timeout=10.0)
    with pytest.raises(ValueError,
                       match=r"streamtype='evnt' is not one of analogsignal, event or None \(did you mean 'event'\?\)"):
        node.configure(name=name, streamtype="evnt")
    node.configure(name=name, streamtype="event", resolve_timeout=10.0)
    assert node.outputs["signals"].spec["streamtype"] == "event"
    assert LSLInlet.declared_outputs({"streamtype": "event"}) == {"signals": {"streamtype": "event"}}
    node.close()


def test_outlet_refuses_what_lsl_cannot_carry():
    src = OutputStream()
    src.configure(dtype="uint16", shape=(-1, 2), protocol="inproc")
    node = LSLOutlet()
    node.configure(name="x")
    node.input.connect(src)
    with pytest.raises(ValueError, match="LSL cannot carry dtype uint16; supported: float32"):
        node.initialize()
    node.close()
    src.close()
