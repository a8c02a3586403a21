"""Every script in examples/ runs as it is, and what it prints (or draws) is checked here.

The examples hold no test code, as pyqtgraph's: each runs in a subprocess exactly as a
user runs it, and its test parses what it printed for the properties the example is
about (the filter's peak, the trigger indexes, the gaps of a round trip...).  Qt
examples run through tests/qt_example_runner.py, which closes their windows from
outside once they have drawn; the audio example gets a HOME whose .asoundrc makes
ALSA's ``file`` plugin the default card, so it runs on real PortAudio.
"""
import ast
import glob
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tests.docsnippets import python_snippets, source

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.py")))
NUMBER = re.compile(r"[-+]?(?:\bnan\b|\d+(?:\.\d*)?(?:e[-+]?\d+)?)")


def run(name: str, *, env: dict | None = None, ready: str | None = None) -> str:
    """Run examples/NAME as it is (a Qt one through the runner, until READY holds) and
    return what it printed; it must end with exit code 0."""
    path = os.path.join("examples", name)
    cmd = [sys.executable, path]
    if ready is not None:
        cmd = [sys.executable, "-m", "tests.qt_example_runner", path, ready, "60"]
        env = dict(env or os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


def line(out: str, start: str) -> str:
    """The first printed line that starts with ``start`` (minus that start)."""
    for text in out.splitlines():
        if text.strip().startswith(start):
            return text.strip()[len(start):]
    pytest.fail(f"no line starting with {start!r} in:\n{out}")


def numbers(text: str) -> list[float]:
    return [float(x) for x in NUMBER.findall(text)]


def value(out: str, start: str):
    """A Python literal printed after ``start`` on a line of its own (a dict, a list...)."""
    return ast.literal_eval(line(out, start).strip())


def test_every_example_has_its_test():
    names = {os.path.splitext(os.path.basename(p))[0] for p in EXAMPLES}
    assert names and all(f"test_{n}" in globals() for n in names), \
        sorted(n for n in names if f"test_{n}" not in globals())


# -- streams -------------------------------------------------------------------------

def test_streams_threads():
    samples, _, total, dropped = numbers(line(run("streams_threads.py"), "received"))
    assert (samples, total, dropped) == (5000, 100 * sum(range(50)), 0)   # channel 0 sum


def test_streams_processes():
    out = line(run("streams_processes.py"), "received")
    assert numbers(out) == [50, 10, 50, 98, 99, 0, 0]        # samples, chunks, index, last, gaps, dropped


def test_streams_closed_loop():
    out = run("streams_closed_loop.py")
    assert line(out, "CPU latency request:").strip().startswith(("held", "not held (cannot request"))
    assert numbers(line(out, "received")) == [2000, 64000, 0, 0]   # chunks, index, gaps, dropped
    _, p50, _, p99 = numbers(line(out, "latency:"))                  # p50 X us, p99 Y us
    assert 0 < p50 <= p99                                           # figures: acqflow bench --hops


# -- devices -------------------------------------------------------------------------

def test_devices_synthetic():
    out = run("devices_synthetic.py")
    assert [c["name"] for c in value(out, "channel_info:")] == ["x", "y", "z"]
    samples, index, *rms = numbers(line(out, "received"))
    assert samples == 1000 and index == 1000
    assert np.allclose(rms, 1 / np.sqrt(2), atol=0.01)      # unit sines


def test_devices_events():
    out = run("devices_events.py").splitlines()
    assert [ln.split()[0] for ln in out] == ["rest", "stimulus", "response"]
    times = [numbers(ln.split("time=")[1])[0] for ln in out]
    indexes = [int(ln.split("index=")[1]) for ln in out]
    assert np.allclose(np.diff(times), [0.5, 0.3], atol=0.01)   # the times pushed
    assert np.diff(indexes).tolist() == [500, 300]           # at 1 kHz


def test_devices_camera():
    pytest.importorskip("cv2")
    out = run("devices_camera.py")
    frames = [numbers(ln) for ln in out.splitlines() if ln.startswith("frame")]
    assert [f[0] for f in frames] == list(range(25))
    means = [f[3] for f in frames]                           # frame k is k * 10 grey
    assert np.allclose(means, np.arange(25) * 10, atol=2)
    assert line(out, "camera state:").startswith(" error (end of file")


def test_two_cameras_eeg():
    pytest.importorskip("cv2")
    out = run("two_cameras_eeg.py")
    for cam in ("cam0", "cam1"):
        recorded, captured, skipped, interval = numbers(line(out, f"{cam}:"))
        assert recorded == captured > 0 and skipped == 0 and "gaps []" in line(out, f"{cam}:")
        assert interval > 0                                      # capture stamps, in order
    samples, channels = numbers(line(out, "eeg:"))
    assert samples > 0 and channels == 8 and "gaps []" in line(out, "eeg:")
    assert line(out, "writer overflows:") == " 0; committed: True"


def test_devices_lsl():
    pytest.importorskip("pylsl")
    out = run("devices_lsl.py")
    seen = value(out, "LSL stream seen as:")
    assert seen["shape"] == (-1, 2) and seen["sample_rate"] == 500.0
    assert [c["name"] for c in seen["channel_info"]] == ["C3", "C4"]
    assert numbers(line(out, "received"))[0] >= 500


def test_devices_audio(tmp_path):
    """Real PortAudio on ALSA's file plugin: the 'microphone' plays a 440 Hz tone."""
    pytest.importorskip("sounddevice")
    from tests.devices.test_audio import alsa_home
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(2 * 16000) / 16000)).astype("int16")
    home = alsa_home(tmp_path, tone)
    out = run("devices_audio.py", env=dict(os.environ, HOME=str(home)))
    stats = value(out, "stats:")
    assert stats["overflows"] == 0 and stats["lost_samples"] == 0
    captured = line(out, "captured")
    assert numbers(captured)[0] == 16000
    assert ast.literal_eval(captured.split("first ones")[1].strip()) == tone[:6].tolist()
    rms, freq = numbers(line(out, "level"))
    assert abs(rms - 8000 / np.sqrt(2)) < 2 and freq == 440


# -- nodes ---------------------------------------------------------------------------

def test_nodes_custom():
    out = run("nodes_custom.py")
    assert numbers(line(out, "received up to index")) == [2000]
    before = numbers(line(out, "envelope at 0.9 s, before the 50 Hz burst:"))
    during = numbers(line(out, "envelope at 1.9 s, during the burst:"))
    assert before[0] < 0.01                                  # channel 0 silent before 1 s
    assert abs(during[0] - 2 / np.pi) < 0.05                 # mean |sin| of the burst
    assert abs(before[1] - 0.5 * 2 / np.pi) < 0.05           # channel 1: 0.5 amplitude


def test_nodes_filters():
    out = run("nodes_filters.py")
    assert numbers(line(out, "decimated stream:")) == [500.0, -1, 4]
    delay, _, most = numbers(line(out, "OverlapFiltfilt latency:"))
    assert 0 < delay <= most
    _, peak, _, residue = numbers(line(out, "received up to index"))[:4]
    assert abs(peak - 5.0) < 1.0                             # the notch took the 50 Hz away
    assert residue < 0.05


def test_nodes_triggers():
    out = run("nodes_triggers.py")
    epochs = [numbers(ln) for ln in out.splitlines() if ln.startswith("epochs at")]
    indexes = [i for e in epochs for i in e[:-3]]            # then the shape (n, 200, 2)
    assert indexes[:6] == [100 + k * 400 for k in range(6)]   # a TTL front every 200 ms
    assert all(e[-2:] == [200, 2] for e in epochs)            # [-20, +80] ms at 2 kHz
    n, peak_ms = numbers(out.splitlines()[-1])      # "6 epochs averaged; response peak 21.0 ms..."
    assert n >= 6 and abs(peak_ms - 20) < 4                  # the response 20 ms after


def test_nodes_video():
    pytest.importorskip("cv2")
    out = run("nodes_video.py")
    energy = numbers(out.split("motion energy per frame:")[1].split("]")[0])
    assert len(energy) == 30 and np.isnan(energy[0])          # no previous frame
    assert numbers(line(out, "motion detected in frames")) == [11, 20]


# -- recording -----------------------------------------------------------------------

def test_recording_roundtrip():
    out = run("recording_roundtrip.py")
    assert line(out, "committed:") == " True; gaps: [(500, 550)]; samples up to index 1500"
    assert line(out, "samples 1000-1100 read back equal to what the source sent:") == " True"
    assert "state 'stopped'" in line(out, "replayed")
    assert [g[:2] for g in value(out, "gaps seen by the live input (start, stop, cause):")] \
        == [(500, 550)]                                      # the lost chunk is still a gap
    assert line(out, "replayed samples equal to the recording at the same indexes:") == " True"


def test_record_h264():
    pytest.importorskip("av")
    out = run("record_h264.py")
    assert "1100 frames, dropped 0" in line(out, "recorded")
    assert "codec 'h264'" in line(out, "1100 frames,") and "keyframes 37" in out
    assert numbers(line(out, "frame 1000: shape"))[3] > 30              # PSNR, dB
    assert line(out, "frame 1000 read at random equals it read in a row:").strip() == "True"
    assert "by remux" in out


def test_record_packets():
    pytest.importorskip("av")
    out = run("record_packets.py")
    assert line(out, "live view:").startswith(" 90 frames decoded on the side, last index 90")
    assert "stored 90 frames, codec 'h264' from packets, keyframes 3" in out
    assert line(out, "frame 60 read back equals the camera's frame 60:") == " True"
    assert line(out, "stored packets are the camera's, byte for byte:") == " True"
    assert "by remux" in out


def test_recording_video_events():
    out = run("recording_video_events.py")
    assert line(out, "30 frames, codec") == " 'png'"
    assert line(out, "frame 17 read back equal to the one sent:") == " True"
    assert [e[1] for e in value(out, "events:")] == ["frame 5", "frame 15", "frame 25"]
    seek = line(out, "after seek to the marker: frame")
    assert abs(numbers(seek)[0] - 15) <= 1 and seek.endswith("equal to the one recorded: True")
    paused = numbers(line(out, "paused"))[0]
    ended = line(out, "replay ended")
    assert numbers(ended)[0] >= paused and ended.endswith("player state: stopped")
    assert "[committed; intact" in out and "codec png" in out   # `acqflow rec info`


# -- rpc -----------------------------------------------------------------------------

def test_rpc_basic():
    out = run("rpc_basic.py")
    assert numbers(line(out, "linspace from the child:")) == [0, 0.25, 0.5, 0.75, 1]
    assert value(out, "sorted remotely:") == [1, 2, 3]
    assert value(out, "async sum:") == 499500
    assert line(out, "remote error:").startswith(" ValueError")
    assert value(out, "exit code:") == 0


def test_rpc_host():
    out = run("rpc_host.py")
    assert value(out, "processes on the host:") == ["remote-worker"]
    assert value(out, "exit code:") == 0


def test_rpc_streams():
    out = run("rpc_streams.py")
    assert numbers(out) == [3, 0, 1, 2, 3, 4, 5]            # index, then the samples


# -- viewers (Qt) --------------------------------------------------------------------

def test_viewers_panel():
    out = run("viewers_panel.py", ready='scope.counters()["frames"] >= 10 '
                                         'and raster.counters()["received_chunks"] >= 2')
    assert line(out, "runner:").startswith(" ready")
    colours, vivid = numbers(line(out, "window 'acqflow example: viewers'"))[2:]
    assert vivid > 2000                                      # 16 coloured curves, markers
    scope, raster = value(out, "scope:"), value(out, "raster:")
    assert scope["frames"] >= 10 and scope["drawn_chunks"] > 0
    assert raster["received_chunks"] >= 2


def test_viewers_qt_group():
    out = run("viewers_qt_group.py", ready='scope.counters()["frames"] >= 10 '
                                           'and tfview.counters()["frames"] >= 5 '
                                           'and vivid(windows()[0]) > 500')
    assert line(out, "runner:").startswith(" ready")
    assert numbers(line(out, "window 'acqflow graph monitor'"))[-1] > 500   # nodes, links
    scope, tfview = value(out, "scope:"), value(out, "time-frequency viewer:")
    assert scope["frames"] >= 10 and tfview["frames"] >= 5


def test_erp_lsl():
    """LSL outlets in another process; markers epoch the EEG at their stimulus's sample."""
    pytest.importorskip("pylsl")
    out = run("erp_lsl.py", ready="average.n_epochs >= 8")
    assert line(out, "runner:").startswith(" ready")
    assert numbers(line(out, "window 'acqflow example: online ERP from LSL'"))[-1] > 2000
    n_epochs, rejected = numbers(line(out, "epochs averaged:"))
    assert n_epochs >= 8 and rejected == 0
    peak, put = numbers(line(out, "average peak:"))
    assert abs(peak - put) <= 3                              # ms: 1.5 samples at 500 Hz


# -- README ---------------------------------------------------------------------------

def _readme_block(lang):
    return source(python_snippets("README.md", language=lang)[0])


def test_readme_stream_snippet_runs():
    result = subprocess.run([sys.executable, "-c", _readme_block("python")], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "0"]


def test_readme_graph_file_runs(tmp_path):
    graph = _readme_block("yaml").replace("/tmp/rec", str(tmp_path / "rec"))
    (tmp_path / "graph.yaml").write_text(graph)
    for run in (1, 2):          # a rerun records into a new directory: `dirname: rec-{time}`
        result = subprocess.run([sys.executable, "-m", "acqflow.commands", "run",
                                 str(tmp_path / "graph.yaml"), "--duration", "2" if run == 1 else "0.5",
                                 "--interval", "0.5"], cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        if run == 1:
            rows = [line.split() for line in result.stdout.splitlines()
                    if line.startswith("filt.output -> rec.filtered")]
            assert rows and float(rows[-1][3]) > 500 and rows[-1][-2:] == ["0", "0"]
    recordings = sorted(p for p in tmp_path.iterdir() if p.name.startswith("rec-"))
    assert len(recordings) == 2 and all(p.is_dir() for p in recordings)
    assert f"recording {recordings[-1]}: committed" in result.stdout     # the second run's
