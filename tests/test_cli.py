"""The `acqflow` command: demo and bench run and print what they promise."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def acqflow(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "acqflow.commands", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_help_lists_commands():
    result = acqflow("--help")
    assert result.returncode == 0
    for name in ("demo", "bench", "host", "keys"):
        assert name in result.stdout


def test_unknown_command_is_named():
    result = acqflow("frobnicate")
    assert result.returncode == 2 and "unknown command 'frobnicate'" in result.stderr


def test_demo_runs_its_graph_and_summarises_the_recording(tmp_path):
    rec = tmp_path / "demo-rec"
    result = acqflow("demo", "--duration", "2.5", "--channels", "6", "--record", str(rec))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "6 channels at 1 kHz -> band-pass 8-30 Hz -> recorder" in out
    rows = [line.split() for line in out.splitlines() if " -> " in line and line.split()[-1].isdigit()]
    streams = {r[0] + " " + r[2] for r in rows}
    assert streams == {"device.signals bandpass.input", "device.signals recorder.raw",
                       "bandpass.output recorder.filtered"}
    assert all(r[-2:] == ["0", "0"] for r in rows)              # no gaps, nothing dropped
    assert all(abs(float(r[3]) - 1000) < 150 for r in rows[-3:])  # about 1000 samples/s
    assert "ch4 (13 Hz) filtered" in out
    assert f"recording {rec}: committed=True" in out
    summary = [line.split() for line in out.splitlines() if line.startswith("  raw") or line.startswith("  filtered")]
    assert len(summary) == 2 and all(int(s[1]) >= 2000 and s[-1] == "0" for s in summary)


def test_bench_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    result = acqflow("bench", "--seconds", "0.2", "--sizes", "2KiB", "--json", str(out), timeout=300)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    cases = {(r["protocol"], r["transfermode"]) for r in data["results"]}
    assert cases == {(p, m) for p in ("tcp", "ipc", "inproc") for m in ("plaindata", "sharedmem")}
    assert all(r["chunks_per_s"] > 0 and r["latency_p50_us"] > 0 for r in data["results"])
    assert "memcpy MB/s" in result.stdout


def test_bench_rejects_unknown_size():
    result = acqflow("bench", "--sizes", "1GiB")
    assert result.returncode == 2 and "unknown size '1GiB'" in result.stderr


def test_demo_with_viewer_feeds_an_oscilloscope_in_a_qt_process(tmp_path):
    """--viewer adds an oscilloscope in a fourth process; with no display at all (regression:
    Qt aborted the process) the Qt process falls back to drawing offscreen."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run([sys.executable, "-m", "acqflow.commands", "demo", "--viewer", "--duration", "3",
                             "--channels", "4", "--record", str(tmp_path / "rec")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "+ oscilloscope" in result.stdout
    rows = [line.split() for line in result.stdout.splitlines()
            if line.startswith("bandpass.output -> scope.signals")]
    assert rows and abs(float(rows[-1][3]) - 1000) < 150 and rows[-1][-2:] == ["0", "0"]
    assert any(line.split()[:1] == ["scope"] and line.split()[-1] == "running"
               for line in result.stdout.splitlines())


def test_rec_bench_records_without_loss_and_reads_checked_slices(tmp_path):
    out = tmp_path / "rec.json"
    result = acqflow("bench", "--rec", "--rates", "20", "--seconds", "0.5", "--channels", "8",
                     "--hours", "0.002", "--slices", "3", "--warm", "--json", str(out), timeout=300)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())["results"]
    [rec] = data["recorder"]
    assert rec["samples"] == rec["expected"] and rec["gaps"] == 0 and rec["overflows"] == 0
    assert data["sustained_MBps"] == 20 and "sustained without loss: 20 MB/s" in result.stdout
    assert data["long"]["slices"] == 3 and data["long"]["slice_ms_max"] > 0


def test_rec_bench_rejects_bad_rates():
    result = acqflow("bench", "--rec", "--rates", "fast")
    assert result.returncode == 2 and "'fast'" in result.stderr


def test_bench_double_ring_option(tmp_path):
    out = tmp_path / "bench.json"
    result = acqflow("bench", "--seconds", "0.1", "--sizes", "64KiB", "--double", "--json", str(out),
                     timeout=300)
    assert result.returncode == 0, result.stderr
    assert "sharedmem ring: double" in result.stdout
    rows = json.loads(out.read_text())["results"]
    assert {r["double_ring"] for r in rows if r["transfermode"] == "sharedmem"} == {True}
    assert all(r["mb_per_s"] > 0 for r in rows)


def test_demo_summary_of_a_recording_with_an_empty_stream(tmp_path):
    """Regression (found by mypy): the demo's summary unpacked ``time_range``, None for
    a stream that recorded nothing (a demo stopped before its first chunk): a TypeError."""
    from acqflow.commands.demo import _summary
    from acqflow.storage import RecordingWriter
    with RecordingWriter(tmp_path / "rec") as w:
        w.add_stream("raw", streamtype="analogsignal", dtype="float32", shape=(-1, 2),
                     sample_rate=1000.0)
    lines = _summary(str(tmp_path / "rec"))
    assert "raw" in lines[1] and "0 samples" in lines[1]
