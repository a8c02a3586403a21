"""acqflow.lsl.record / `acqflow lsl record` against real liblsl outlets in other processes."""
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from acqflow.storage import open_recording
from acqflow.testing import wait_for
from tests.lsl.conftest import ROOT

pytest.importorskip("pylsl")
from acqflow.lsl import LSLRecorder, record  # noqa: E402


def check_counter(stream, ts_stream, t0, rate, channels):
    """Stored sample i is i * channels + c, stamped t0 + i / rate (wherever it is stored)."""
    for start, data in stream.chunks():
        idx = np.arange(start, start + len(data))
        np.testing.assert_array_equal(data, (idx[:, None] * channels + np.arange(channels)
                                             ).astype(data.dtype))
    for start, stamps in ts_stream.chunks():
        idx = np.arange(start, start + len(stamps))
        np.testing.assert_allclose(stamps[:, 0], t0 + idx / rate, rtol=0, atol=1e-9)


def test_records_every_stream_with_metadata_stamps_and_offsets(lsl_source, unique, tmp_path):
    prefix = unique("rec")
    eeg = lsl_source(name=f"{prefix}-eeg", type="EEG", channels=3, rate=200.0, n=400, chunk=20,
                     source_id=f"{prefix}-sid", format="cf_float32", units="microvolts")
    mk = lsl_source(name=f"{prefix}-markers", type="Markers", channels=1, rate=0, n=20,
                    format="cf_string")
    lsl_source(name=unique("other"), channels=1, rate=10.0, n=5)     # not matched
    out = tmp_path / "rec"
    rec = LSLRecorder(out, match=[prefix], sync_interval=0.5).start(wait=3.0)
    try:
        t0 = eeg.read_until("t0")["t0"]
        mk_t0 = mk.read_until("t0")["t0"]
        caps = {c.name: c for c in rec.captures}
        assert set(caps) == {f"{prefix}-eeg", f"{prefix}-markers"}
        wait_for(lambda: caps[f"{prefix}-eeg"].samples == 400, timeout=30)
        wait_for(lambda: caps[f"{prefix}-markers"].samples == 20, timeout=30)
        wait_for(lambda: len(caps[f"{prefix}-eeg"].clock_sync()["lsl_offsets"]) >= 2,
                 timeout=30)
    finally:
        rec.close()
    rec = open_recording(out)
    assert rec.committed and rec.intact
    s = rec[f"{prefix}-eeg"]
    ts = rec[f"{prefix}-eeg.timestamps"]
    assert (len(s), s.gaps, s.sample_rate, s.shape, str(s.dtype)) == (400, [], 200.0, (-1, 3),
                                                                      "float32")
    check_counter(s, ts, t0, 200.0, 3)
    meta = s.entry["metadata"]
    assert (meta["lsl_name"], meta["lsl_type"], meta["lsl_source_id"]) == (
        f"{prefix}-eeg", "EEG", f"{prefix}-sid")
    assert meta["nominal_srate"] == 200.0 and meta["lsl_channel_format"] == "float32"
    assert "<manufacturer>tests</manufacturer>" in meta["lsl_info_xml"]
    assert s.entry["channel_info"] == [{"name": f"C{c}", "units": "microvolts", "type": "EEG"}
                                       for c in range(3)]
    sync = s.clock_sync
    assert len(sync["lsl_offsets"]) >= 2                 # at start, then every 0.5 s
    assert all(abs(tc) < 1e-3 for _, tc in sync["lsl_offsets"])   # same host: ~0
    assert sync["offset"] == -sync["lsl_offsets"][-1][1]
    m = rec[f"{prefix}-markers"]
    assert m.streamtype == "event" and len(m) == 20
    ev = m.read()
    assert [b.decode() for b in ev["label"]] == [f"marker {k}" for k in range(20)]
    np.testing.assert_allclose(ev["time"], mk_t0 + np.arange(20) * 0.05, atol=1e-9)
    assert m.entry["metadata"]["irregular_rate"] is True
    # XDF out: pyxdf reads the LSL stamps, values, labels and offsets as stored
    pyxdf = pytest.importorskip("pyxdf")
    from acqflow.storage.export_xdf import to_xdf, xdf_streams
    path = to_xdf(xdf_streams(rec.streams.values()), tmp_path / "rec.xdf", progress=False)
    got = {x["info"]["name"][0]: x for x in pyxdf.load_xdf(
        str(path), synchronize_clocks=False, dejitter_timestamps=False)[0]}
    x = got[f"{prefix}-eeg"]
    np.testing.assert_array_equal(x["time_series"], s.read())
    np.testing.assert_array_equal(x["time_stamps"], ts.read()[:, 0])
    assert [[a, b] for a, b in zip(x["clock_times"], x["clock_values"])] == sync["lsl_offsets"]
    assert x["info"]["desc"][0]["acquisition"][0]["manufacturer"] == ["tests"]
    assert [v[0] for v in got[f"{prefix}-markers"]["time_series"]] == [
        f"marker {k}" for k in range(20)]


def test_watch_adds_late_streams_and_continues_after_a_gap(lsl_source, unique, tmp_path):
    prefix = unique("watch")
    out = tmp_path / "rec"
    rec = LSLRecorder(out, match=[prefix], watch=True, sync_interval=0.5)
    rec.start(wait=0.5)
    assert rec.captures == []
    try:
        a = lsl_source(name=f"{prefix}-a", channels=2, rate=100.0, source_id=f"{prefix}-a",
                       chunk=5)
        t0 = a.read_until("t0")["t0"]
        cap = wait_for(lambda: rec.captures and rec.captures[0], timeout=30)
        wait_for(lambda: cap.samples >= 50, timeout=30)
        a.stop()
        last = a.read_until("pushed")["pushed"]
        wait_for(lambda: cap.lost, timeout=30, message="the recorder to notice the loss")
        b = lsl_source(name=f"{prefix}-a", channels=2, rate=100.0, source_id=f"{prefix}-a",
                       chunk=5, start=last + 100, t0=t0)          # same clock, 1 s later
        wait_for(lambda: not cap.lost and cap.samples >= last + 50, timeout=30,
                 message="the stream to continue")
        late = lsl_source(name=f"{prefix}-late", channels=1, rate=50.0, format="cf_int16",
                          dtype="int16")
        late_t0 = late.read_until("t0")["t0"]
        wait_for(lambda: len(rec.captures) == 2 and rec.captures[1].samples >= 20, timeout=30)
    finally:
        summary = rec.close()
    assert [s["reconnects"] for s in summary["streams"]] == [1, 0]
    r = open_recording(out)
    assert r.committed
    s, ts = r[f"{prefix}-a"], r[f"{prefix}-a.timestamps"]
    assert len(s.gaps) == 1
    g0, g1 = s.gaps[0]
    assert g0 == last and g1 == last + 100           # exactly the samples never sent
    check_counter(s, ts, t0, 100.0, 2)
    assert len(s.clock_sync["reconnects"]) == 1
    check_counter(r[f"{prefix}-late"], r[f"{prefix}-late.timestamps"], late_t0, 50.0, 1)
    b.stop()


def test_no_stream_visible_is_a_clear_error(unique, tmp_path):
    with pytest.raises(RuntimeError, match="no LSL stream whose name contains"):
        record(tmp_path / "rec", duration=1, match=[unique("absent")], resolve_wait=0.5)
    assert not (tmp_path / "rec").exists()              # nothing recorded, nothing left


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_cli_records_until_ctrl_c_and_commits(lsl_source, unique, tmp_path, sig):
    """Ctrl-C commits; kill -9 leaves an uncommitted recording holding its sealed blocks."""
    prefix = unique("cli")
    src = lsl_source(name=f"{prefix}-eeg", channels=2, rate=100.0, chunk=10)
    out = tmp_path / "rec"
    proc = subprocess.Popen([sys.executable, "-m", "acqflow.cli", "lsl", "record", str(out),
                             "--match", prefix, "--sync-interval", "1"], cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=ROOT), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f"recording '{prefix}-eeg'" in line, (line, proc.stderr.read() if proc.poll() else "")
        t0 = src.read_until("t0")["t0"]

        def stored():
            try:
                return len(open_recording(out)[f"{prefix}-eeg"]) >= 100
            except Exception:
                return False
        wait_for(stored, timeout=30)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    rec = open_recording(out)
    if sig == signal.SIGINT:
        assert proc.returncode == 0, stderr[-2000:]
        assert "committed" in stdout and "Traceback" not in stderr
        assert rec.committed
    else:
        assert not rec.committed and rec.intact and len(rec[f"{prefix}-eeg"]) >= 100
    check_counter(rec[f"{prefix}-eeg"], rec[f"{prefix}-eeg.timestamps"], t0, 100.0, 2)


def test_cli_lists_visible_streams(lsl_source, unique, capsys):
    from acqflow.lsl.cli import main
    name = unique("list")
    lsl_source(name=name, channels=3, rate=100.0, source_id="L1", wait_consumer=False)
    assert main(["list", "--wait", "2"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if name in x)
    assert "3 ch float32 at 100 Hz" in line and "source_id 'L1'" in line


def test_multichannel_string_stream_is_skipped_with_a_warning(lsl_source, unique, tmp_path,
                                                              caplog):
    prefix = unique("multi")
    lsl_source(name=f"{prefix}-pairs", channels=2, rate=0, format="cf_string", n=5)
    lsl_source(name=f"{prefix}-eeg", channels=1, rate=50.0, n=10)
    rec = LSLRecorder(tmp_path / "rec", match=[prefix]).start(wait=3.0)
    rec.close()
    assert [c.name for c in rec.captures] == [f"{prefix}-eeg"]
    assert any(f"{prefix}-pairs" in r.getMessage() and "single-channel" in r.getMessage()
               for r in caplog.records if r.levelname == "WARNING")
    assert set(open_recording(tmp_path / "rec").streams) == {f"{prefix}-eeg",
                                                            f"{prefix}-eeg.timestamps"}
