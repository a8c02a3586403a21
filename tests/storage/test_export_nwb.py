"""Export to NWB (pynwb), read back with pynwb and compared with the stored streams."""
import json

import numpy as np
import pytest

from acqflow.storage import open_recording
from tests.storage.source import RATE, T0, make_recording
from tests.storage.video import H, W, read_video, smooth

pynwb = pytest.importorskip("pynwb")


def read_nwb(path):
    io = pynwb.NWBHDF5IO(str(path), "r")
    return io, io.read()


def test_signal_and_events(tmp_path, capsys):
    from acqflow.storage.export_nwb import to_nwb
    make_recording(tmp_path / "r", 40)
    rec = open_recording(tmp_path / "r")
    sig, ev = rec["sig"], rec["ev"]
    to_nwb(list(rec.streams.values()), tmp_path / "all.nwb", progress=True)
    assert "export all.nwb" in capsys.readouterr().err
    io, f = read_nwb(tmp_path / "all.nwb")
    with io:
        assert f.identifier == str(rec.uuid)
        assert f.session_start_time.timestamp() == pytest.approx(T0, abs=1e-6)
        ts = f.acquisition["sig"]
        assert ts.rate == RATE and ts.unit == "uV" and ts.starting_time == pytest.approx(0, abs=1e-6)
        np.testing.assert_array_equal(ts.data[()], sig.read(fill="auto"))
        info = json.loads(ts.description)
        assert info["channel_names"] == [c["name"] for c in sig.channel_info]
        assert [tuple(g) for g in info["gaps"]] == sig.gaps and sig.gaps
        table = f.events["ev"].to_dataframe()
        assert list(table["index"]) == list(ev[:]["index"])
        assert list(table["label"]) == [x.decode() for x in ev[:]["label"]]
        np.testing.assert_allclose(table["timestamp"], ev.times() - T0, atol=1e-6)


def test_sub_range_fill_and_starting_time(tmp_path):
    from acqflow.storage.export_nwb import to_nwb
    make_recording(tmp_path / "r", 40)
    sig = open_recording(tmp_path / "r")["sig"]
    a, b = 300, 900                                    # spans the gap [307, 342)
    to_nwb(sig, tmp_path / "part.nwb", a, b, fill=0, progress=False)
    io, f = read_nwb(tmp_path / "part.nwb")
    with io:
        ts = f.acquisition["sig"]
        np.testing.assert_array_equal(ts.data[()], sig.read(a, b, fill=0))
        assert f.session_start_time.timestamp() == pytest.approx(sig.time_at(a), abs=1e-6)
        assert json.loads(ts.description)["start_index"] == a


def test_video_goes_to_an_external_mp4(video_rec, tmp_path):
    from acqflow.storage.export_nwb import to_nwb
    cam = video_rec["cam"]
    to_nwb(cam, tmp_path / "cam.nwb", progress=False)
    io, f = read_nwb(tmp_path / "cam.nwb")
    with io:
        series = f.acquisition["cam"]
        assert series.format == "external" and list(series.external_file) == ["cam_cam.mp4"]
        times = series.timestamps[()]
        # one time per stored frame of the .mp4: the gap [20, 25) holds no frame
        np.testing.assert_allclose(times, np.r_[np.arange(20), np.arange(25, 30)] / 25,
                                   atol=1e-6)
    frames, _fps = read_video(tmp_path / "cam_cam.mp4")
    assert len(frames) == 25 and np.abs(frames[:20].astype(int) - smooth(0, 20)).mean() < 4
    assert frames.shape[1:3] == (H, W)


def test_bad_arguments(tmp_path):
    from acqflow.storage.export_nwb import to_nwb
    make_recording(tmp_path / "r", 10)   # chunk 7 is a gap
    rec = open_recording(tmp_path / "r")
    with pytest.raises(ValueError, match="'x.h5'"):
        to_nwb(rec["sig"], tmp_path / "x.h5")
    with pytest.raises(ValueError, match="single stream"):
        to_nwb(list(rec.streams.values()), tmp_path / "x.nwb", start=1)
    with pytest.raises(IndexError, match="outside stream 'sig'"):
        to_nwb(rec["sig"], tmp_path / "x.nwb", 0, 10**9)
    g0, g1 = rec["sig"].gaps[0]
    with pytest.raises(ValueError, match=rf"'sig' has no stored sample in \[{g0}:{g1}\]"):
        to_nwb(rec["sig"], tmp_path / "x.nwb", g0, g1)
