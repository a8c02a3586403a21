"""Exports carry each stream's fitted time model: a stream recorded by a real Recorder on a
drifting, jittery clock is written to NWB, HDF5 and XDF with the model's times (read back
by pynwb, h5py and pyxdf); ``times='stamps'`` still gives the raw stamps."""
import numpy as np
import pytest

from acqflow import OutputStream
from acqflow.nodes.recorder import Recorder
from acqflow.storage import RecordingWriter, open_recording
from acqflow.storage.timebase import sample_times, timebase
from acqflow.testing import wait_for

FS = 1000.0
DRIFT = 50e-6          # the device's clock runs 50 ppm fast
T0 = 1_700_000_000.0
ATOL = 1e-6


def true_time(i):
    return T0 + np.asarray(i) / (FS * (1 + DRIFT))


def send(out, n_chunks, chunk=20, first=0, t_shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    for k in range(n_chunks):
        stop = first + (k + 1) * chunk
        out.send(np.full((chunk, 2), k, "float32"), index=stop,
                 time=float(true_time(stop - 1)) + t_shift + rng.normal(0, 1e-3))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """'eeg': 16 s at 1 kHz, +50 ppm, 1 ms stamp jitter; 'step': the same, then a 5 s
    clock step (two model segments)."""
    path = tmp_path_factory.mktemp("model") / "rec"
    outs = {}
    for name in ("eeg", "step"):
        outs[name] = out = OutputStream(name=name)
        out.configure(protocol="inproc", shape=(-1, 2), dtype="float32", sample_rate=FS,
                      backpressure="block")
    rec = Recorder(name="rec")
    rec.configure(dirname=path, streams=["eeg", "step"], block_s=0.05)
    for name, out in outs.items():
        rec.inputs[name].connect(out)
    rec.initialize()
    rec.start()
    send(outs["eeg"], 800)
    send(outs["step"], 500, seed=2)
    send(outs["step"], 300, first=10_000, t_shift=5.0, seed=3)
    wait_for(lambda: all(rec.writer.stats()["streams"][n]["expected_stop"] == 16_000
                         for n in outs), timeout=20)
    rec.stop()
    rec.close()
    for out in outs.values():
        out.close()
    return path


def _model(s):
    return s.times(model=True)


def test_timebase_takes_the_stored_model(recorded):
    rec = open_recording(recorded)
    s, step = rec["eeg"], rec["step"]
    assert s.time_model.source == "recorder"
    tb = timebase(s)
    assert len(tb.segments) == 1 and tb.segments[0].rate == s.time_model.segments[0]["rate"]
    assert abs((tb.segments[0].rate / FS - 1) * 1e6 - 50) < 20
    assert tb.regular == (tb.max_error <= ATOL)
    got = np.concatenate(list(sample_times(s, s.first_index, s.stop_index)))
    np.testing.assert_allclose(got, _model(s), rtol=0, atol=ATOL)
    raw = np.concatenate(list(sample_times(s, s.first_index, s.stop_index, times="stamps")))
    np.testing.assert_array_equal(raw, s.times())
    assert np.abs(raw - _model(s)).max() > 1e-4         # the raw stamps jitter around it
    two = timebase(step)
    assert len(two.segments) == 2 and not two.regular
    assert two.segments[1].start == 10_000
    assert two.segments[1].t0 == pytest.approx(step.time_model.time_of(10_000), abs=ATOL)
    assert len(timebase(step, times="stamps").segments) == 2
    with pytest.raises(ValueError, match="times"):
        timebase(s, times="fitted")


def _nwb_times(series):
    if series.timestamps is not None:
        return np.asarray(series.timestamps[()], float)
    return series.starting_time + np.arange(len(series.data)) / series.rate


def test_nwb_times_are_the_models(recorded, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    from acqflow.storage.export_nwb import to_nwb
    rec = open_recording(recorded)
    streams = [rec["eeg"], rec["step"]]
    to_nwb(streams, tmp_path / "m.nwb")
    to_nwb(streams, tmp_path / "raw.nwb", times="stamps")
    with pynwb.NWBHDF5IO(str(tmp_path / "m.nwb"), "r") as io:
        f = io.read()
        start = f.session_start_time.timestamp()
        for s in streams:
            t, w = _nwb_times(f.acquisition[s.name]), _model(s)
            np.testing.assert_allclose(t - t[0], w - w[0], rtol=0, atol=ATOL)
            assert abs(start + t[0] - w[0]) < 2e-6      # session start: 1 us resolution
    with pynwb.NWBHDF5IO(str(tmp_path / "raw.nwb"), "r") as io:
        f = io.read()       # raw stamps: within the tolerance of the nominal grid, else each
        assert f.acquisition["eeg"].rate == FS
        t, w = f.acquisition["step"].timestamps[()], rec["step"].times()
        np.testing.assert_allclose(t - t[0], w - w[0], rtol=0, atol=ATOL)
    try:
        from nwbinspector import inspect_nwbfile
    except ImportError:
        return
    bad = [m for m in inspect_nwbfile(nwbfile_path=str(tmp_path / "m.nwb"))     # (no subject:
           if m.importance.name == "PYNWB_VALIDATION"                           # no metadata)
           or any(w in m.check_function_name for w in ("time", "rate"))]
    assert not bad, bad


def test_hdf5_times_are_the_models(recorded, tmp_path):
    h5py = pytest.importorskip("h5py")
    from acqflow.storage.export_hdf5 import to_hdf5
    rec = open_recording(recorded)
    to_hdf5([rec["eeg"], rec["step"]], tmp_path / "m.h5")
    to_hdf5([rec["eeg"], rec["step"]], tmp_path / "raw.h5", times="stamps")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        for name in ("eeg", "step"):
            g = f[name]
            assert g.attrs["time_source"] == "model"
            if g.attrs["regular"]:
                t = g.attrs["starting_time"] + np.arange(len(g["data"])) / g.attrs["sample_rate"]
            else:
                t = g["times"][()]
            np.testing.assert_allclose(t, _model(rec[name]), rtol=0, atol=ATOL)
            np.testing.assert_array_equal(g["segment_rates"][()],
                                          [x["rate"] for x in rec[name].time_model.segments])
    with h5py.File(tmp_path / "raw.h5", "r") as f:
        assert f["eeg"].attrs["time_source"] == "stamps" and f["eeg"].attrs["regular"]
        assert f["eeg"].attrs["sample_rate"] == FS          # stamps within the tolerance
        np.testing.assert_array_equal(f["step"]["times"][()], rec["step"].times())


@pytest.mark.parametrize("sync", [True, False])
def test_xdf_stamps_are_the_models(recorded, tmp_path, sync):
    pyxdf = pytest.importorskip("pyxdf")
    from acqflow.storage.export_xdf import to_xdf
    rec = open_recording(recorded)
    to_xdf([rec["eeg"], rec["step"]], tmp_path / "m.xdf")
    to_xdf([rec["eeg"]], tmp_path / "raw.xdf", times="stamps")
    got, _ = pyxdf.load_xdf(str(tmp_path / "m.xdf"), synchronize_clocks=sync,
                            dejitter_timestamps=False)
    by = {x["info"]["name"][0]: x for x in got}
    for name in ("eeg", "step"):
        np.testing.assert_allclose(by[name]["time_stamps"], _model(rec[name]), rtol=0, atol=ATOL)
    raw, _ = pyxdf.load_xdf(str(tmp_path / "raw.xdf"), synchronize_clocks=sync,
                            dejitter_timestamps=False)
    np.testing.assert_allclose(raw[0]["time_stamps"], rec["eeg"].times(), rtol=0, atol=ATOL)


def test_a_straight_model_is_written_at_its_fitted_rate(tmp_path):
    """A model that is one line: NWB ``rate`` = the fitted rate, HDF5 no ``times``."""
    pynwb = pytest.importorskip("pynwb")
    h5py = pytest.importorskip("h5py")
    from acqflow.storage.export_hdf5 import to_hdf5
    from acqflow.storage.export_nwb import to_nwb
    fitted = FS * (1 + DRIFT)
    rng = np.random.default_rng(5)
    with RecordingWriter(tmp_path / "r") as w:
        w.add_stream("sig", dict(shape=(-1, 1), dtype="float32", sample_rate=FS))
        for k in range(1, 101):
            w.write("sig", np.zeros((50, 1), "float32"), index=50 * k,
                    timestamp=float(true_time(50 * k - 1)) + rng.normal(0, 1e-3))
        rows = [[49, i, float(true_time(i)), fitted, 1e-3] for i in (49, 2049, 4999)]
        w.set_stream_clock("sig", {}, time_model=dict(history=rows))
    s = open_recording(tmp_path / "r")["sig"]
    tb = timebase(s)
    assert tb.regular and tb.segments[0].rate == fitted
    to_nwb(s, tmp_path / "s.nwb")
    with pynwb.NWBHDF5IO(str(tmp_path / "s.nwb"), "r") as io:
        ts = io.read().acquisition["sig"]
        assert ts.timestamps is None and ts.rate == fitted
    to_hdf5(s, tmp_path / "s.h5")
    with h5py.File(tmp_path / "s.h5", "r") as f:
        g = f["sig"]
        assert "times" not in g and g.attrs["sample_rate"] == fitted
        assert g.attrs["nominal_rate"] == FS
        t = g.attrs["starting_time"] + np.arange(len(g["data"])) / g.attrs["sample_rate"]
        np.testing.assert_allclose(t, s.times(model=True), rtol=0, atol=ATOL)
    to_nwb(s, tmp_path / "raw.nwb", times="stamps", overwrite=True)
    with pynwb.NWBHDF5IO(str(tmp_path / "raw.nwb"), "r") as io:
        assert io.read().acquisition["sig"].rate == FS        # stamps within the tolerance


def test_cli_times_flag(recorded, tmp_path):
    h5py = pytest.importorskip("h5py")
    from acqflow.storage.cli import main
    for how in ("model", "stamps"):
        out = tmp_path / f"{how}.h5"
        assert main(["export", str(recorded), "eeg", "--out", str(out),
                     "--times", how, "--quiet"]) == 0
        with h5py.File(out, "r") as f:
            assert f["eeg"].attrs["time_source"] == how


def test_video_frames_at_the_models_times(tmp_path):
    """A video stream with a stored (bent) model: frame times and the MP4's pts are the
    model's (to the MP4's 1/90000 s tick)."""
    av = pytest.importorskip("av")
    from acqflow.storage.export_video import frame_times, to_video
    from tests.storage.video import H, W, smooth
    rate, fitted = 25.0, 25.0 * (1 + DRIFT)
    with RecordingWriter(tmp_path / "r") as w:
        w.add_stream("cam", {"streamtype": "video", "shape": (-1, H, W, 3), "sample_rate": rate})
        for k in range(40):
            w.write("cam", smooth(k, k + 1), index=k + 1, timestamp=T0 + k / fitted)
        rows = [[0, 0, T0, fitted, 1e-3], [0, 20, T0 + 20 / fitted + 2e-3, fitted, 1e-3]]
        w.set_stream_clock("cam", {}, time_model=dict(history=rows))
    s = open_recording(tmp_path / "r")["cam"]
    want = s.times(model=True)
    assert not timebase(s).regular              # the model bends: each frame at its time
    idx, t = frame_times(s)
    np.testing.assert_allclose(t, want[idx], rtol=0, atol=ATOL)
    raw = frame_times(s, times="stamps")[1]     # raw stamps, on the nominal grid
    np.testing.assert_allclose(raw, s.times()[0] + idx / rate, rtol=0, atol=ATOL)
    to_video(s, tmp_path / "c.mp4")
    with av.open(str(tmp_path / "c.mp4")) as f:
        pts = np.array([float(fr.pts * fr.time_base) for fr in f.decode(video=0)])
    np.testing.assert_allclose(pts, want - want[0], rtol=0, atol=1.1 / 90000)


def test_another_hosts_clock_model_times_on_the_recorders_clock(tmp_path):
    """A stream of another host (clock 0.5 s ahead): XDF stamps are its model times with
    ClockOffsets, so pyxdf's synchronize_clocks gives them on the recorder's clock, as NWB."""
    pyxdf = pytest.importorskip("pyxdf")
    pynwb = pytest.importorskip("pynwb")
    from acqflow.storage.export_nwb import to_nwb
    from acqflow.storage.export_xdf import to_xdf
    fitted, ahead = FS * (1 + DRIFT), 0.5
    with RecordingWriter(tmp_path / "r") as w:
        w.add_stream("sig", dict(shape=(-1, 1), dtype="float32", sample_rate=FS))
        for k in range(1, 101):
            w.write("sig", np.zeros((50, 1), "float32"), index=50 * k,
                    timestamp=float(true_time(50 * k - 1)) + ahead)
        rows = [[49, i, float(true_time(i)) + ahead + 1e-4 * (i == 2049), fitted, 1e-3]
                for i in (49, 2049, 4999)]
        w.set_stream_clock("sig", dict(id="amp", recorder_id="rec", offset=ahead,
                                       uncertainty=1e-5, drift=0.0, t_ref=T0,
                                       history=[[T0, ahead, 1e-5], [T0 + 5, ahead, 1e-5]]),
                           time_model=dict(history=rows))
    s = open_recording(tmp_path / "r")["sig"]
    want = s.to_recorder_clock(s.times(model=True))
    assert abs(want[0] - true_time(0)) < 1e-3
    to_xdf(s, tmp_path / "s.xdf")
    got, _ = pyxdf.load_xdf(str(tmp_path / "s.xdf"), synchronize_clocks=True,
                            dejitter_timestamps=False)
    np.testing.assert_allclose(got[0]["time_stamps"], want, rtol=0, atol=ATOL)
    to_nwb(s, tmp_path / "s.nwb")
    with pynwb.NWBHDF5IO(str(tmp_path / "s.nwb"), "r") as io:
        f = io.read()
        t = _nwb_times(f.acquisition["sig"])
        np.testing.assert_allclose(t - t[0], want - want[0], rtol=0, atol=ATOL)
        assert abs(f.session_start_time.timestamp() + t[0] - want[0]) < 2e-6
