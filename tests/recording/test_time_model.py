"""A recording keeps its raw stamps and, beside them, the stream's fitted time model: the
Recorder writes it into the manifest, StoredStream reads it (or fits one offline), and
``acqflow rec info`` shows its rate, drift and jitter."""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from acqflow import OutputStream
from acqflow.nodes.recorder import Recorder
from acqflow.storage import RecordingWriter, open_recording
from acqflow.storage.cli import main
from acqflow.storage.errors import StorageError
from acqflow.storage.streamtime import model_from_history
from acqflow.testing import examples, wait_for

FS = 1000.0
DRIFT = 60e-6          # the device's clock runs 60 ppm fast
T0 = 1_700_000_000.0


def true_time(i):
    return T0 + np.asarray(i) / (FS * (1 + DRIFT))


def send_drifting(out, n_chunks, chunk=20, jitter=1e-3, first=0, t_shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    for k in range(n_chunks):
        stop = first + (k + 1) * chunk
        out.send(np.full((chunk, 2), k, "float32"), index=stop,
                 time=float(true_time(stop - 1)) + t_shift + rng.normal(0, jitter))


@pytest.fixture
def recorded(tmp_path):
    """40 s at 1 kHz on a 60 ppm clock with 1 ms stamp jitter, then a 5 s clock step."""
    out = OutputStream(name="eeg")
    out.configure(protocol="inproc", shape=(-1, 2), dtype="float32", sample_rate=FS,
                  backpressure="block")
    rec = Recorder(name="rec")
    rec.configure(dirname=tmp_path / "rec", streams=["eeg"], block_s=0.05)
    rec.inputs["eeg"].connect(out)
    rec.initialize()
    rec.start()
    send_drifting(out, 2000)                                    # [0, 40000)
    send_drifting(out, 500, first=40_000, t_shift=5.0, seed=1)  # the clock steps 5 s ahead
    wait_for(lambda: rec.writer.stats()["streams"]["eeg"]["expected_stop"] == 50_000, timeout=20)
    rec.stop()
    rec.close()
    out.close()
    return tmp_path / "rec"


def test_recorder_stores_the_model_beside_the_raw_stamps(recorded):
    rec = open_recording(recorded)
    s = rec["eeg"]
    entry = s.entry["time_model"]
    assert entry["clock"] == "source" and entry["resets"] == 1 and entry["since"] == 40_019
    first = [row for row in entry["history"] if row[0] == 19]       # [since, index, time, rate, jitter]
    assert first and abs((first[-1][3] / FS - 1) * 1e6 - 60) < 15
    assert first[-1][4] == pytest.approx(1e-3, rel=0.3)
    # raw stamps as sent (the time of each chunk's last sample), kept
    raw = s.times(0, 40_000)
    assert abs(raw[19] - true_time(19)) < 5e-3
    # the model: two segments, the step between them; samples placed on the true clock
    m = s.time_model
    assert m.source == "recorder" and len(m.segments) == 2
    assert m.segments[1]["start"] == 40_000
    idx = np.arange(1000, 40_000, 997)
    assert np.abs(s.times(model=True)[idx] - true_time(idx)).max() < 1e-3   # < 1 jitter
    assert abs(s.time_model.time_of(45_000) - (true_time(45_000) + 5.0)) < 1e-3
    assert abs(m.drift_ppm - 60) < 30


def test_index_at_and_time_slice_with_the_model(recorded):
    s = open_recording(recorded)["eeg"]
    for i in (1234, 20_000, 39_000):
        assert s.index_at(float(true_time(i)) - 0.5 / FS, model=True) == i
    assert s.index_at(float(true_time(44_000)) + 5.0 - 0.5 / FS, model=True) == 44_000
    t0 = float(true_time(5000)) - 0.5 / FS
    block = s.time_slice(t0, t0 + 0.1, model=True)
    assert len(block) == 100
    assert (block[:, 0] == np.arange(5000, 5100) // 20).all()
    # raw times stay the default: each chunk's last sample at its stamp as sent
    a = s.record_table(0, 100)
    assert (s.times(0, 100)[a["stop"] - 1] == a["t"]).all()


def test_offline_fit_when_the_manifest_has_no_model(tmp_path):
    rng = np.random.default_rng(3)
    with RecordingWriter(tmp_path / "old") as w:
        w.add_stream("sig", dict(streamtype="analogsignal", dtype="float32", shape=(-1, 1),
                                 sample_rate=FS))
        for k in range(1, 1001):
            stop = 30 * k + (30_000 if k > 500 else 0)         # a gap of 30 s, clock intact
            w.write("sig", np.zeros((30, 1), "float32"), stop,
                    float(true_time(stop - 1)) + rng.normal(0, 1e-3))
    s = open_recording(tmp_path / "old")["sig"]
    assert "time_model" not in s.entry
    m = s.time_model
    assert m.source == "fitted" and len(m.segments) == 1 and abs(m.drift_ppm - 60) < 20
    assert abs(s.time_model.time_of(40_000) - true_time(40_000)) < 5e-4
    assert s.index_at(float(true_time(50_000)) - 0.5 / FS, model=True) == 50_000


def test_event_streams_have_no_model(tmp_path):
    from acqflow.dataflow.spec import EVENT_DTYPE
    with RecordingWriter(tmp_path / "ev") as w:
        w.add_stream("ev", dict(streamtype="event", dtype=EVENT_DTYPE, shape=(-1,)))
        w.write("ev", np.zeros(2, EVENT_DTYPE), 2, 5.0)
    s = open_recording(tmp_path / "ev")["ev"]
    assert s.time_model is None
    with pytest.raises(StorageError, match="no time model"):
        s.index_at(5.0, model=True)


def test_rec_info_shows_rate_drift_and_jitter(recorded, capsys):
    assert main(["info", str(recorded)]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "clock: fitted rate" in ln)
    assert "ppm" in line and "jitter" in line and "2 segments" in line
    assert main(["info", str(recorded), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)["streams"]["eeg"]["time_model"]
    assert abs(info["drift_ppm"] - 60) < 30 and info["segments"] == 2
    assert info["jitter"] == pytest.approx(1e-3, rel=0.3)


json_values = st.recursive(st.none() | st.booleans() | st.integers(-(1 << 70), 1 << 70)
                           | st.floats() | st.text(max_size=4),
                           lambda inner: st.lists(inner, max_size=6), max_leaves=30)


@settings(max_examples=examples(200), deadline=None)
@given(history=json_values, t=st.floats(allow_nan=False, allow_infinity=False,
                                        min_value=-1e10, max_value=1e10))
def test_any_stored_history_gives_a_model_or_none_never_a_crash(history, t):
    m = model_from_history(history, FS, 0, 10_000)
    if m.segments:
        assert np.isfinite(m.time_of(5000)) and m.rate > 0
        m.index_at(t)
