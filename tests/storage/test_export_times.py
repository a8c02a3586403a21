"""Every export carries the recording's true times: a pause of the source (times jump,
the index does not) gives explicit timestamps or split files, never a fixed rate that
misplaces the samples after it; a regular recording still gets a rate.  Each file is
read back by an independent reader (pynwb + nwbinspector, h5py, scipy's WAV reader,
PyAV and OpenCV, pyxdf)."""
import numpy as np
import pytest

from acqflow.storage import RecordingWriter, open_recording
from acqflow.storage.timebase import IrregularTimesError, timebase

h5py = pytest.importorskip("h5py")

RATE, FPS, T0 = 1000.0, 10.0, 1_700_000_000.0
PAUSE, CAM_PAUSE = 1.5, 2.0
H, W = 16, 24
EV_DTYPE = [("index", "int64"), ("label", "S8")]


def frames(i0: int, i1: int) -> np.ndarray:
    i = np.arange(i0, i1)[:, None, None, None]
    return ((np.arange(H * W * 3).reshape(1, H, W, 3) // 5 + 9 * i) % 256).astype(np.uint8)


def signal(i0: int, i1: int) -> np.ndarray:
    i = np.arange(i0, i1, dtype=np.float32)[:, None]
    return (np.sin(i / 37 + np.arange(2)) * 0.5).astype(np.float32)


def write(path, pause: bool):
    """'sig': 1 kHz in chunks of 50, paused PAUSE s after sample 1000 (the index goes on),
    a dropped chunk [2000:2050) on the grid; 'cam': 10 fps, paused CAM_PAUSE s after frame
    15; 'ev': events."""
    with RecordingWriter(path) as w:
        w.add_stream("sig", {"streamtype": "analogsignal", "dtype": "float32", "shape": (-1, 2),
                             "sample_rate": RATE, "units": "V"})
        w.add_stream("cam", {"streamtype": "video", "shape": (-1, H, W, 3), "sample_rate": FPS})
        w.add_stream("ev", {"streamtype": "event", "sample_rate": 1.0,
                            "dtype": EV_DTYPE})
        for stop in range(50, 3001, 50):
            if stop == 2050:
                continue                                  # a gap on the grid
            late = PAUSE if pause and stop > 1000 else 0.0
            w.write("sig", signal(stop - 50, stop), stop, T0 + (stop - 1) / RATE + late)
            if stop % 500 == 0:
                ev = np.array([(stop, b"e%d" % stop)], EV_DTYPE)
                w.write("ev", ev, None, T0 + (stop - 1) / RATE + late)
        for k in range(30):
            late = CAM_PAUSE if pause and k >= 15 else 0.0
            w.write("cam", frames(k, k + 1), k + 1, T0 + k / FPS + late)
    return open_recording(path)


@pytest.fixture(scope="module")
def paused(tmp_path_factory):
    return write(tmp_path_factory.mktemp("times") / "paused", pause=True)


@pytest.fixture(scope="module")
def regular(tmp_path_factory):
    return write(tmp_path_factory.mktemp("times") / "regular", pause=False)


def stored(stream) -> np.ndarray:
    """Absolute indexes of the stored samples."""
    return np.concatenate([np.arange(s, s + len(d)) for s, d in stream.chunks()])


def test_timebase_finds_the_pause_and_keeps_on_grid_gaps(paused, regular):
    tb = timebase(paused["sig"])
    assert not tb.regular and [(s.start, s.stop) for s in tb.segments] == [(0, 1000), (1000, 3000)]
    assert tb.breaks() == ["times jump by +1.5 s at sample 1000"]
    assert tb.segments[1].t0 == pytest.approx(T0 + 1000 / RATE + PAUSE, abs=1e-6)
    good = timebase(regular["sig"])
    assert good.regular and len(good.segments) == 1 and good.starting_time == T0
    assert paused["sig"].gaps == [(2000, 2050)]
    assert timebase(regular["sig"], tolerance=0).regular        # exact stamps: exact grid


def read_nwb(path):
    from pynwb import NWBHDF5IO
    io = NWBHDF5IO(str(path), "r")
    return io, io.read()


def nwb_problems(path) -> list[str]:
    """nwbinspector's errors, and any of its remarks on times or rates (a missing subject is
    the archive metadata's business, tested elsewhere)."""
    from nwbinspector import Importance, inspect_nwbfile
    bad = (Importance.CRITICAL, Importance.PYNWB_VALIDATION, Importance.ERROR)
    return [f"{m.check_function_name}: {m.message}" for m in inspect_nwbfile(nwbfile_path=path)
            if m.check_function_name != "check_subject_exists" and (
                m.importance in bad or "time" in m.check_function_name
                or "rate" in m.check_function_name)]


def test_nwb_timestamps_after_a_pause_rate_when_regular(paused, regular, tmp_path):
    pytest.importorskip("pynwb")
    from acqflow.storage.export_nwb import to_nwb
    for rec, name in ((paused, "p.nwb"), (regular, "r.nwb")):
        to_nwb([rec["sig"], rec["cam"]], tmp_path / name, progress=False)
        assert not nwb_problems(tmp_path / name)
    sig, cam = paused["sig"], paused["cam"]
    io, f = read_nwb(tmp_path / "p.nwb")
    with io:
        t0 = f.session_start_time.timestamp()
        series = f.acquisition["sig"]
        assert series.rate is None and series.starting_time is None
        times = series.timestamps[()] + t0
        idx = stored(sig)
        np.testing.assert_allclose(times[idx], sig.times()[idx], rtol=0, atol=1e-6)
        assert np.all(np.diff(times) > 0)                 # the gap's rows: interpolated
        np.testing.assert_array_equal(series.data[idx], sig.read(fill="auto")[idx])
        video = f.acquisition["cam"]
        np.testing.assert_allclose(video.timestamps[()] + t0, cam.times(), rtol=0, atol=1e-6)
    io, f = read_nwb(tmp_path / "r.nwb")
    with io:
        series = f.acquisition["sig"]
        assert series.timestamps is None and series.rate == RATE
        assert f.session_start_time.timestamp() + series.starting_time == pytest.approx(T0,
                                                                                         abs=1e-6)


def test_hdf5_times_dataset_when_not_regular(paused, regular, tmp_path):
    from acqflow.storage.export_hdf5 import to_hdf5
    to_hdf5([paused["sig"], paused["ev"]], tmp_path / "p.h5", progress=False)
    to_hdf5(regular["sig"], tmp_path / "r.h5", progress=False)
    with h5py.File(tmp_path / "p.h5") as f:
        g = f["sig"]
        assert not g.attrs["regular"]
        np.testing.assert_array_equal(g["times"][()], paused["sig"].times())   # NaN in the gap
        assert g["segments"][()].tolist() == [[0, 1000, T0], [1000, 3000, T0 + 1 + PAUSE]]
        np.testing.assert_array_equal(f["ev"]["times"][()], paused["ev"].times())
    with h5py.File(tmp_path / "r.h5") as f:
        g = f["sig"]
        assert g.attrs["regular"] and "times" not in g
        grid = g.attrs["starting_time"] + np.arange(len(g["data"])) / g.attrs["sample_rate"]
        idx = stored(regular["sig"])
        np.testing.assert_allclose(grid[idx], regular["sig"].times()[idx], rtol=0, atol=1e-6)


def test_wav_refuses_a_pause_or_splits_it(paused, regular, tmp_path):
    from scipy.io import wavfile
    from acqflow.storage.export import to_wav, to_wav_parts
    sig = paused["sig"]
    with pytest.raises(IrregularTimesError, match=r"'sig': times jump by \+1.5 s at sample "
                       r"1000; a WAV file has one fixed rate.*to_wav_parts \(CLI --split\)"):
        to_wav(sig, tmp_path / "x.wav", progress=False)
    assert not (tmp_path / "x.wav").exists()
    parts = to_wav_parts(sig, tmp_path / "out.wav", progress=False)
    assert [p.name for p, _ in parts] == ["out.wav", "out.part2.wav"]
    times = sig.times()
    for path, seg in parts:
        rate, data = wavfile.read(path)
        assert rate == RATE and len(data) == seg.stop - seg.start
        # every stored sample of the file is where the recording has it
        idx = np.array([i for i in stored(sig) if seg.start <= i < seg.stop])
        np.testing.assert_allclose(seg.t0 + (idx - seg.start) / rate, times[idx], atol=1e-6)
        np.testing.assert_array_equal(data[idx - seg.start],
                                      np.round(sig.read(fill=0)[idx] * 32767).astype(np.int16))
    one = to_wav_parts(regular["sig"], tmp_path / "one.wav", progress=False)
    assert [p.name for p, _ in one] == ["one.wav"]
    assert wavfile.read(to_wav(regular["sig"], tmp_path / "r.wav", progress=False))[0] == RATE


@pytest.mark.parametrize("suffix,resolution", [(".mkv", 1e-3), (".mp4", 1 / 60000)])
def test_video_frames_at_their_times(paused, tmp_path, suffix, resolution):
    av = pytest.importorskip("av")
    cv2 = pytest.importorskip("cv2")
    from acqflow.storage.export_video import to_video
    cam = paused["cam"]
    out = to_video(cam, tmp_path / f"cam{suffix}", progress=False)
    want = cam.times() - cam.times()[0]
    with av.open(str(out)) as c:
        got = [(float(fr.pts * fr.time_base), fr.to_ndarray(format="bgr24"))
               for fr in c.decode(video=0)]
        comment = {k.lower(): v for k, v in c.metadata.items()}["comment"]
        assert f"first frame at {float(cam.times()[0])!r} s" in comment
    assert len(got) == 30                                 # no frame repeated in the pause
    np.testing.assert_allclose([t for t, _ in got], want, rtol=0, atol=resolution / 2 + 1e-9)
    if suffix == ".mkv":                                  # FFV1: lossless
        np.testing.assert_array_equal(np.stack([f for _, f in got]), cam[:])
    cap = cv2.VideoCapture(str(out))
    msec = []
    while cap.read()[0]:
        msec.append(cap.get(cv2.CAP_PROP_POS_MSEC) / 1000)
    cap.release()
    assert len(msec) == 30
    np.testing.assert_allclose(msec, want, rtol=0, atol=1e-3)


def test_xdf_stamps_are_the_recordings(paused, tmp_path):
    pyxdf = pytest.importorskip("pyxdf")
    from acqflow.storage.export_xdf import to_xdf
    to_xdf([paused["sig"], paused["ev"]], tmp_path / "p.xdf", progress=False)
    streams, _ = pyxdf.load_xdf(str(tmp_path / "p.xdf"), synchronize_clocks=False,
                                dejitter_timestamps=False)
    by_name = {s["info"]["name"][0]: s for s in streams}
    sig = paused["sig"]
    idx = stored(sig)
    np.testing.assert_allclose(by_name["sig"]["time_stamps"], sig.times()[idx], rtol=0, atol=1e-6)


def test_cli_notes_timestamps_and_splits(paused, tmp_path, capsys):
    from acqflow.commands.rec import main
    url = paused.url
    assert main(["export", url, "sig", "--out", str(tmp_path / "s.nwb"), "-q"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "note: stream 'sig': times jump by +1.5 s at sample " \
        "1000: wrote per-sample timestamps" in err
    assert main(["export", url, "sig", "--out", str(tmp_path / "s.wav")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--split" in err and not (tmp_path / "s.wav").exists()
    assert main(["export", url, "sig", "--out", str(tmp_path / "s.wav"), "--split"]) == 0
    out, err = capsys.readouterr()
    assert "wrote 2 WAV files, one per regular segment" in err
    assert f"wrote {tmp_path / 's.part2.wav'} (wav, samples [1000:3000]" in out
    assert main(["export", url, "cam", "--out", str(tmp_path / "c.mkv"), "-q"]) == 0
    assert "each frame at its stored time" in capsys.readouterr().err
    assert main(["export", url, "sig", "--out", str(tmp_path / "t.nwb"), "-q",
                 "--time-tolerance", "2"]) == 0       # a 1.5 s jump within a 2 s tolerance
    assert capsys.readouterr().err == ""


def test_a_variable_rate_video_imports_back_at_its_times(paused, tmp_path):
    pytest.importorskip("av")
    pytest.importorskip("cv2")
    from acqflow.storage.export_video import to_video
    from acqflow.storage.external import import_media
    cam = paused["cam"]
    to_video(cam, tmp_path / "cam.mkv", progress=False)
    back = open_recording(import_media(tmp_path / "cam.mkv", tmp_path / "back",
                                       start_time=float(cam.times()[0]), chunk=4))["video"]
    assert len(back) == 30 and back.entry["external"]["segments"] == [[0, 0.0], [15, 3.5]]
    np.testing.assert_allclose(back.times(), cam.times(), rtol=0, atol=1e-3)   # MKV: 1 ms
    np.testing.assert_array_equal(back[14:17], cam[14:17])
    assert back.time_slice(T0 + 3.4, T0 + 3.6).shape[0] == 1         # frame 15 alone
