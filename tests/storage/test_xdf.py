"""XDF export: acqflow recordings written as XDF 1.0 and read back with pyxdf (the reference)."""
import numpy as np
import pytest

from acqflow.storage import RecordingWriter, StorageError, open_recording
from acqflow.commands.rec import main as rec_main

pyxdf = pytest.importorskip("pyxdf")
from acqflow.storage.export_xdf import to_xdf, xdf_streams  # noqa: E402

EVENT = np.dtype([("index", "int64"), ("time", "float64"), ("label", "S16")])


def load(path, **kw):
    """pyxdf's streams by name (raw stamps unless asked otherwise)."""
    kw.setdefault("synchronize_clocks", False)
    kw.setdefault("dejitter_timestamps", False)
    streams, header = pyxdf.load_xdf(str(path), **kw)
    return {s["info"]["name"][0]: s for s in streams}, header


@pytest.fixture
def acq_rec(tmp_path):
    """A recording made by acqflow (no LSL): analog with a gap, int16, digital, events, video."""
    path = tmp_path / "rec"
    chans = [{"name": n, "units": "uV", "type": "EEG"} for n in ("Fz", "Cz", "Pz")]
    with RecordingWriter(path, metadata={"subject": "s1"}) as w:
        w.add_stream("eeg", streamtype="analogsignal", dtype="float32", shape=(-1, 3),
                     sample_rate=250.0, channel_info=chans)
        w.add_stream("trig", streamtype="analogsignal", dtype="int16", shape=(-1, 1),
                     sample_rate=100.0)
        w.add_stream("adc", streamtype="digitalsignal", dtype="uint8", shape=(-1, 2),
                     sample_rate=10.0)
        w.add_stream("events", streamtype="event", dtype=EVENT.descr, shape=(-1,),
                     sample_rate=1.0)
        w.add_stream("cam", streamtype="video", dtype="uint8", shape=(-1, 4, 4, 3),
                     sample_rate=30.0)
        rng = np.random.default_rng(0)
        t = 1_700_000_000.0
        for k in range(10):
            if k == 5:
                continue                                   # a gap of 25 samples
            w.write("eeg", rng.normal(size=(25, 3)).astype("float32"), index=(k + 1) * 25,
                    timestamp=t + ((k + 1) * 25 - 1) / 250.0)
            w.write("trig", np.full((10, 1), k, "int16"), timestamp=t + k * 0.1 + 0.09)
        w.write("adc", np.array([[0, 255], [1, 2], [200, 3]], "uint8"), timestamp=t + 0.2)
        ev = np.zeros(3, EVENT)
        ev["index"], ev["time"], ev["label"] = -1, [t + 0.1, t + 0.5, t + 0.7], [b"go", b"stop",
                                                                                  "é".encode()]
        w.write("events", ev, timestamp=t + 0.7)
        w.write("cam", np.zeros((2, 4, 4, 3), "uint8"), timestamp=t)
    return open_recording(path)


def test_export_reads_back_with_pyxdf(acq_rec, tmp_path):
    out = tmp_path / "x.xdf"
    streams = xdf_streams(acq_rec.streams.values())
    assert [s.name for s in streams] == ["eeg", "trig", "adc", "events"]   # not the video
    to_xdf(streams, out, progress=False)
    got, header = load(out)
    assert header["info"]["version"] == ["1.0"]
    assert set(got) == {"eeg", "trig", "adc", "events"}
    for name in ("eeg", "trig", "adc"):
        s = acq_rec[name]
        stored = np.concatenate([d for _, d in s.chunks()])
        times = np.concatenate([s.times(a, a + len(d)) for a, d in s.chunks()])
        x = got[name]
        np.testing.assert_array_equal(x["time_series"], stored.reshape(len(stored), -1))
        np.testing.assert_allclose(x["time_stamps"], times, rtol=0, atol=1e-6)
        assert float(x["info"]["nominal_srate"][0]) == s.sample_rate
        assert int(x["footer"]["info"]["sample_count"][0]) == len(stored)
    assert len(got["eeg"]["time_stamps"]) == 225                      # the gap is absent
    assert got["adc"]["info"]["channel_format"] == ["int16"]          # uint8 widened
    chans = got["eeg"]["info"]["desc"][0]["channels"][0]["channel"]
    assert [(c["label"][0], c["unit"][0], c["type"][0]) for c in chans] == [
        ("Fz", "uV", "EEG"), ("Cz", "uV", "EEG"), ("Pz", "uV", "EEG")]
    ev = got["events"]
    assert ev["info"]["channel_format"] == ["string"]
    assert [v[0] for v in ev["time_series"]] == ["go", "stop", "é"]
    np.testing.assert_array_equal(ev["time_stamps"], acq_rec["events"].read()["time"])
    synced, _ = load(out, synchronize_clocks=True, dejitter_timestamps=True)
    assert {k: len(v["time_stamps"]) for k, v in synced.items()} == {
        k: len(v["time_stamps"]) for k, v in got.items()}


def test_export_one_stream_with_range_and_refusals(acq_rec, tmp_path):
    out = tmp_path / "one.xdf"
    to_xdf(acq_rec["trig"], out, start=20, stop=50, progress=False)
    got, _ = load(out)
    np.testing.assert_array_equal(got["trig"]["time_series"][:, 0], np.repeat([2, 3, 4], 10))
    with pytest.raises(StorageError, match="'cam' cannot go to XDF"):
        to_xdf(acq_rec["cam"], tmp_path / "v.xdf")
    with pytest.raises(ValueError, match="single stream"):
        to_xdf([acq_rec["eeg"], acq_rec["trig"]], tmp_path / "v.xdf", start=0)


def test_cli_export_all_and_clear_errors(acq_rec, tmp_path, capsys):
    out = tmp_path / "all.xdf"
    assert rec_main(["export", acq_rec.url, "all", "--out", str(out), "-q"]) == 0
    got, _ = load(out)
    assert set(got) == {"eeg", "trig", "adc", "events"}
    assert rec_main(["export", acq_rec.url, "cam", "--out", str(tmp_path / "c.xdf")]) == 1
    err = capsys.readouterr().err
    assert "'cam' cannot go to XDF" in err and "Traceback" not in err


def test_export_all_names_each_stream_it_leaves_out(acq_rec, tmp_path, capsys, caplog):
    note = ("cam (video 4x4x3) is not written to XDF: XDF carries numeric and string "
            "samples; export it to cam.mkv")
    left_out = []
    with caplog.at_level("INFO", logger="acqflow.storage"):
        assert [s.name for s in xdf_streams(acq_rec.streams.values(), left_out)] == [
            "eeg", "trig", "adc", "events"]
    assert left_out == [note] and note in caplog.text
    out = tmp_path / "all.xdf"
    assert rec_main(["export", acq_rec.url, "all", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "note: " + note.replace("export it to", "export it with --out")]
    assert "wrote" in captured.out
    assert rec_main(["export", acq_rec.url, "cam", "--out", str(tmp_path / "cam.mkv"),
                     "-q"]) == 0       # the command the note gives works


def test_mne_reads_the_export_through_pyxdf(acq_rec, tmp_path):
    """The usual MNE route for XDF: pyxdf, then a RawArray with the header's labels and rate."""
    mne = pytest.importorskip("mne")
    out = to_xdf(acq_rec["eeg"], tmp_path / "eeg.xdf", progress=False)
    streams, _ = pyxdf.load_xdf(str(out))
    eeg = streams[0]
    chans = eeg["info"]["desc"][0]["channels"][0]["channel"]
    info = mne.create_info([c["label"][0] for c in chans],
                           float(eeg["info"]["nominal_srate"][0]), "eeg")
    raw = mne.io.RawArray(eeg["time_series"].T * 1e-6, info, verbose="error")
    assert raw.ch_names == ["Fz", "Cz", "Pz"] and raw.info["sfreq"] == 250.0
    stored = np.concatenate([d for _, d in acq_rec["eeg"].chunks()])
    np.testing.assert_allclose(raw.get_data().T * 1e6, stored, rtol=1e-6)
