"""Each device created in a spawned process through RPC proxies, its stream received here."""
import uuid

import numpy as np
import pytest

from acqflow import InputStream, OutputStream, StreamClosed
from acqflow.testing import wait_for
from tests.devices.test_audio import alsa_home
from tests.devices.test_camera import N, frame_for, number_in

ProcessSpawner = pytest.importorskip("acqflow.rpc").ProcessSpawner

pytestmark = pytest.mark.timeout(90)

WAVE = (np.arange(6000 * 2) % 1000).astype("int16").reshape(-1, 2)


@pytest.fixture(scope="module")
def child(tmp_path_factory):
    """One child for the module; its HOME makes ALSA's default PCM a file-backed card."""
    import os
    home = alsa_home(tmp_path_factory.mktemp("alsa"), WAVE)
    proc = ProcessSpawner(name="devices-child", env=dict(os.environ, HOME=str(home)))
    proc.home = home
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def rdev(child):
    return child.client._import("acqflow.devices")


def recv_n(inp, n):
    chunks = []
    while sum(len(d) for _, d in chunks) < n:
        chunks.append(inp.recv(timeout=10000))
    return chunks


def test_synthetic_in_a_child(rdev):
    node = rdev.SyntheticSignal(name="remote-synth")
    buf = np.arange(40, dtype="float32").reshape(20, 2)
    node.configure(buffer=buf, sample_rate=2000.0, chunksize=25)
    node.output.configure(protocol="tcp")
    node.initialize()
    inp = InputStream()
    inp.connect(node.output)                       # params fetched through the proxy
    assert inp.params["channel_info"][0]["name"] == "ch0"
    node.start()
    chunks = recv_n(inp, 100)
    node.stop()
    node.close()
    inp.close()
    data = np.concatenate([d for _, d in chunks])[:100]
    np.testing.assert_array_equal(data, buf[np.arange(100) % 20])
    assert chunks[0][0] == 25


def test_events_in_a_child(rdev):
    node = rdev.EventSource(name="remote-events")
    node.configure()
    node.initialize()
    inp = InputStream()
    inp.connect(node.output)
    node.start()
    node.push_event("remote", time=5.0)
    index, data = inp.recv(timeout=10000)
    node.close()
    inp.close()
    assert index == 1 and data.tolist() == [(-1, 5.0, b"remote")]


def test_camera_in_a_child_reports_end_of_file(rdev, tmp_path):
    cv2 = pytest.importorskip("cv2")
    path = str(tmp_path / "clip.avi")
    w = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (64, 48))
    for k in range(N):
        w.write(frame_for(k))
    w.release()
    node = rdev.Camera(name="remote-cam")
    node.configure(device=path, realtime=False)
    node.initialize()
    inp = InputStream()
    inp.connect(node.outputs["video"])
    node.start()
    numbers = []
    with pytest.raises(StreamClosed):
        while True:
            numbers.append(number_in(inp.recv(timeout=10000)[1][0]))
    assert numbers == list(range(N))
    wait_for(lambda: node.state._get_value() == "error")
    assert node.error_reason._get_value().startswith("end of file")
    node.close()
    inp.close()


def test_audio_capture_in_a_child(rdev):
    pytest.importorskip("sounddevice")
    node = rdev.AudioDevice(name="remote-audio")
    node.configure(input_device="default", channels=2, sample_rate=48000.0, dtype="int16",
                   blocksize=600)
    node.output.configure(backpressure="block")
    node.initialize()
    inp = InputStream()
    inp.connect(node.output)
    node.start()
    chunks = recv_n(inp, len(WAVE))
    node.stop()
    stats = node.stats()
    node.close()
    inp.close()
    np.testing.assert_array_equal(np.concatenate([d for _, d in chunks])[:len(WAVE)], WAVE)
    assert stats["overflows"] == 0


def test_lsl_inlet_in_a_child_and_outlet_in_a_child(child, rdev):
    pylsl = pytest.importorskip("pylsl")
    name = f"acq-spawned-{uuid.uuid4().hex[:8]}"
    # a child LSLOutlet fed from a local output; a child LSLInlet receives it back
    src = OutputStream()
    src.configure(dtype="float32", shape=(-1, 2), sample_rate=100.0)
    rnodes = child.client._import("acqflow.nodes")
    out = rnodes.LSLOutlet(name="remote-lsl-out")
    out.configure(name=name, type="Test")
    out.input.connect(src.params)
    out.initialize()
    out.start()
    inl = rdev.LSLInlet(name="remote-lsl-in")
    inl.configure(name=name, resolve_timeout=10.0)
    inl.initialize()
    inp = InputStream()
    inp.connect(inl.outputs["signals"])
    inl.start()
    assert out.wait_for_consumers(10)
    data = np.arange(400, dtype="float32").reshape(200, 2)
    for k in range(0, 200, 50):
        src.send(data[k:k + 50])
    got = np.concatenate([d for _, d in recv_n(inp, 200)])
    np.testing.assert_array_equal(got, data)
    # a plain local pylsl inlet sees the child's outlet too
    info = pylsl.resolve_byprop("name", name, 1, 10)[0]
    assert info.channel_count() == 2 and info.nominal_srate() == 100.0
    inl.close()
    out.close()
    src.close()
    inp.close()
