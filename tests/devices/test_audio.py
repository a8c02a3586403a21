"""AudioDevice through real PortAudio/ALSA: a `file` PCM plugin stands in for the card.

Capture reads ``in.raw`` and playback writes ``out.raw`` (``format "raw"``: the
samples exactly as the PCM carries them, interleaved, little-endian, in the
client's dtype, since ``plug`` passes any format through to ``file``/``null``).
The null slave has no clock, so the card runs as fast as the node reads/writes.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from acqflow import InputStream, OutputStream, StreamClosed

pytest.importorskip("sounddevice")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def alsa_home(tmp_path, infile: np.ndarray | None = None):
    """A HOME whose .asoundrc makes the default PCM a file-backed card."""
    raw = b"" if infile is None else infile.astype(infile.dtype.newbyteorder("<")).tobytes()
    (tmp_path / "in.raw").write_bytes(raw)
    (tmp_path / ".asoundrc").write_text(
        'pcm.!default { type plug slave.pcm "f" }\n'
        f'pcm.f {{ type file slave.pcm "null" file "{tmp_path}/out.raw" '
        f'infile "{tmp_path}/in.raw" format "raw" }}\n')
    return tmp_path


class Peer:
    """The audio node's process: JSON lines out, commands in."""

    def __init__(self, home, **cfg):
        env = dict(os.environ, HOME=str(home), PYTHONPATH=ROOT)
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.devices.audio_peer", json.dumps(cfg)],
                                     cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            pytest.fail(f"audio peer ended: {self.proc.stderr.read()[-3000:]}")
        return json.loads(line)

    def send(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def finish(self) -> dict:
        report = self.read()
        assert self.proc.wait(30) == 0, self.proc.stderr.read()[-3000:]
        return report

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def peers():
    started = []
    yield lambda home, **cfg: started.append(Peer(home, **cfg)) or started[-1]
    for p in started:
        p.kill()


def receive(inp, n: int):
    chunks, got = [], 0
    while got < n:
        index, data = inp.recv(timeout=10000)
        chunks.append((index, data))
        got += len(data)
    return chunks


@pytest.mark.parametrize("dtype", ["float32", "int16"])
def test_capture_is_sample_exact(tmp_path, peers, dtype):
    n, ch = 12000, 2
    ramp = np.arange(n * ch).reshape(n, ch)
    wave = (ramp / (n * ch)).astype(dtype) if dtype == "float32" else (ramp % 30000).astype(dtype)
    peer = peers(alsa_home(tmp_path, wave), mode="capture", channels=ch, sample_rate=48000.0,
                 dtype=dtype, blocksize=500)
    params = peer.read()["params"]
    assert params["sample_rate"] == 48000.0 and params["shape"] == [-1, ch]
    assert [c["name"] for c in params["channel_info"]] == ["default:0", "default:1"]
    inp = InputStream()
    inp.connect(params)
    peer.send("start")
    chunks = receive(inp, n)
    peer.send("stop")
    report = peer.finish()
    inp.close()
    # a block's time: when its last sample reached the converter, before its send
    assert inp.last_send_time - 5 < inp.last_sample_time < inp.last_send_time
    assert chunks[0][0] == 500 and all(len(d) == 500 for _, d in chunks)
    got = np.concatenate([d for _, d in chunks])[:n]
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got[500:], wave[500:])     # exact after the first block
    np.testing.assert_array_equal(got, wave)                  # (in fact, from the first sample)
    assert report["state"] == "running" and report["stats"]["overflows"] == 0
    assert inp.gaps == 0


def test_playback_lands_in_the_file(tmp_path, peers):
    n, ch = 20000, 2
    wave = ((np.arange(n * ch) % 32000) + 1).astype("int16").reshape(n, ch)   # never 0
    home = alsa_home(tmp_path)
    src = OutputStream(name="tone")
    src.configure(dtype="int16", shape=(-1, ch), sample_rate=44100.0, backpressure="block")
    peer = peers(home, mode="playback", channels=ch, sample_rate=44100.0, dtype="int16",
                 blocksize=256, upstream=src.params)
    assert peer.read() == {"ready": True}
    for k in range(0, n, 1000):
        src.send(wave[k:k + 1000])
    src.close()
    report = peer.finish()
    assert report["state"] == "running", report
    assert report["stats"]["played_samples"] == n and report["stats"]["silence_samples"] == 0
    raw = np.fromfile(tmp_path / "out.raw", dtype="<i2").reshape(-1, ch)
    start = int(np.flatnonzero(raw.any(axis=1))[0])           # after any priming silence
    np.testing.assert_array_equal(raw[start:start + n], wave)
    assert not raw[start + n:].any()


def test_playback_fills_upstream_gaps_with_silence(tmp_path, peers):
    home = alsa_home(tmp_path)
    src = OutputStream()
    src.configure(dtype="float32", shape=(-1, 1), sample_rate=8000.0, backpressure="block")
    peer = peers(home, mode="playback", channels=1, sample_rate=8000.0, dtype="float32",
                 blocksize=128, upstream=src.params)
    peer.read()
    src.send(np.full((300, 1), 0.5, "float32"))
    src.send(np.full((200, 1), -0.5, "float32"), index=300 + 100 + 200)   # 100 lost upstream
    src.close()
    report = peer.finish()
    assert report["stats"]["silence_samples"] == 100
    raw = np.fromfile(tmp_path / "out.raw", dtype="<f4")
    start = int(np.flatnonzero(raw)[0])
    expected = np.r_[np.full(300, 0.5), np.zeros(100), np.full(200, -0.5)].astype("float32")
    np.testing.assert_array_equal(raw[start:start + 600], expected)


def test_overflow_is_a_gap_never_hidden(tmp_path, peers):
    wave = np.arange(8000, dtype="int32").reshape(-1, 1)
    peer = peers(alsa_home(tmp_path, wave), mode="capture", channels=1, sample_rate=16000.0,
                 dtype="int32", blocksize=256, inject="overflow", at=3)
    params = peer.read()["params"]
    inp = InputStream()
    inp.connect(params)
    peer.send("start")
    chunks = receive(inp, 1024)
    peer.send("stop")
    report = peer.finish()
    inp.close()
    stats = report["stats"]
    assert stats["overflows"] == 1 and stats["lost_samples"] >= 256
    assert inp.gaps >= 1 and inp.gap_log[0] == (512, 512 + stats["lost_samples"], "source")
    (i2, _), (i3, d3) = chunks[1], chunks[2]
    assert i2 == 512 and i3 == 512 + stats["lost_samples"] + 256
    # the samples themselves are untouched: block 3 is what the card gave third
    np.testing.assert_array_equal(d3[:, 0], np.arange(512, 768))


def test_device_error_moves_to_error_state(tmp_path, peers):
    """PortAudio failing mid-run (here injected: ALSA's file plugin never fails)."""
    wave = np.zeros((50000, 1), "float32")
    peer = peers(alsa_home(tmp_path, wave), mode="capture", channels=1, sample_rate=16000.0,
                 dtype="float32", blocksize=256, inject="error", at=5)
    params = peer.read()["params"]
    inp = InputStream()
    inp.connect(params)
    peer.send("start")
    received = 0
    with pytest.raises(StreamClosed):          # the node closed its output: no hang downstream
        while True:
            received += len(inp.recv(timeout=10000)[1])
    assert received == 4 * 256
    peer.send("stop")
    report = peer.finish()
    inp.close()
    assert report["state"] == "error"
    assert "PortAudioError" in report["reason"] and "device disappeared" in report["reason"]


def test_bad_parameters_list_the_devices(tmp_path):
    """Configure-time errors, in a fresh process that sees the file-backed card."""
    script = r"""
import pytest
from acqflow.devices import AudioDevice
def err(**kw):
    with pytest.raises(ValueError) as e:
        AudioDevice().configure(**kw)
    print(str(e.value))
err(input_device="no such card")
err(output_device=99)
err(input_device="default", channels=100000)
err(input_device="default", sample_rate=1e9)
err(input_device="default", dtype="float64")
err()
node = AudioDevice()
node.configure(input_device="default", channels=1)
assert list(node.inputs) == [] and list(node.outputs) == ["signals"]
node.configure(output_device=0, channels=1)
assert list(node.inputs) == ["signals"] and list(node.outputs) == []
"""
    env = dict(os.environ, HOME=str(alsa_home(tmp_path)), PYTHONPATH=ROOT)
    res = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr[-3000:]
    lines = res.stdout.splitlines()
    assert lines[0].startswith("unknown input audio device 'no such card'; available input devices:")
    assert "0: 'f'" in lines[0] and "'default'" in lines[0]
    assert lines[1].startswith("unknown output audio device 99; available output devices:")
    assert "refuses channels=100000" in lines[2] and "input channels" in lines[2]
    assert "refuses channels=2, sample_rate=1e+09" in lines[3]
    assert "dtype 'float64' is not supported; use one of float32, int32" in lines[4]
    assert "give input_device (capture) and/or output_device (playback)" in lines[5]
