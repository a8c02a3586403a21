"""Export to MP4/AVI (OpenCV) and HDF5 (h5py), read back and compared with the stored
stream; progress bars on request."""
import json

import numpy as np
import pytest

from acqflow.storage import open_recording
from tests.storage.source import make_recording
from tests.storage.video import H, W, read_video, smooth

cv2 = pytest.importorskip("cv2")
h5py = pytest.importorskip("h5py")
def test_avi_lossless_frames_and_gap_at_its_time(video_rec, tmp_path):
    from acqflow.storage.export_video import to_video
    out = to_video(video_rec["cam"], tmp_path / "cam.avi", fourcc="FFV1", progress=False)
    frames, fps = read_video(out)
    assert len(frames) == 25 and fps == pytest.approx(25.0)      # the gap repeats nothing
    np.testing.assert_array_equal(frames[:20], smooth(0, 20))
    np.testing.assert_array_equal(frames[20:], smooth(25, 30))
    av = pytest.importorskip("av")
    with av.open(str(out)) as c:                # frame 25 is at its time, 1.0 s
        times = [float(f.pts * f.time_base) for f in c.decode(video=0)]
    np.testing.assert_allclose(times, np.r_[np.arange(20), np.arange(25, 30)] / 25, atol=1e-9)


def test_mp4_default_codec_and_grayscale(video_rec, tmp_path):
    from acqflow.storage.export_video import to_video
    frames, _fps = read_video(to_video(video_rec["cam"], tmp_path / "cam.mp4", 0, 20))
    assert len(frames) == 20
    assert np.abs(frames.astype(int) - smooth(0, 20)).mean() < 4     # lossy, but close
    frames, fps = read_video(to_video(video_rec["gray"], tmp_path / "g.avi", fourcc="FFV1"))
    assert len(frames) == 6 and fps == pytest.approx(10.0)
    np.testing.assert_array_equal(frames[..., 0], smooth(0, 6)[..., 0])


def test_video_export_refuses_non_video_and_bad_suffix(video_rec, tmp_path):
    from acqflow.storage.export_video import to_video
    make_recording(tmp_path / "r", 5)
    rec = open_recording(tmp_path / "r")
    with pytest.raises(ValueError, match="'sig'"):
        to_video(rec["sig"], tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="'.xyz'"):
        to_video(video_rec["cam"], tmp_path / "x.xyz")
    with pytest.raises(ValueError, match="unsupported fourcc 'ABCD'; use one of 'mp4v'"):
        to_video(video_rec["cam"], tmp_path / "x.mp4", fourcc="ABCD")
    assert not (tmp_path / "x.mp4").exists()


def test_hdf5_signal_events_gaps_attrs(tmp_path, capsys):
    from acqflow.storage.export_hdf5 import to_hdf5
    make_recording(tmp_path / "r", 40)
    rec = open_recording(tmp_path / "r")
    sig, ev = rec["sig"], rec["ev"]
    out = to_hdf5(list(rec.streams.values()), tmp_path / "all.h5", progress=True)
    assert "export all.h5" in capsys.readouterr().err
    with h5py.File(out) as f:
        g = f["sig"]
        assert g.attrs["sample_rate"] == sig.sample_rate
        assert g.attrs["start_index"] == sig.first_index and g.attrs["stop_index"] == sig.stop_index
        assert json.loads(g.attrs["channel_info"]) == sig.channel_info
        assert g.attrs["streamtype"] == "analogsignal"
        np.testing.assert_array_equal(g["data"][()], sig.read(fill="auto"))
        assert [tuple(r) for r in g["gaps"][()]] == sig.gaps and sig.gaps
        assert len(g["chunks"]) == sig.n_records
        np.testing.assert_array_equal(g["chunks"][:, 2], sig._table.arrays["t"])
        np.testing.assert_array_equal(f["ev"]["data"][()], ev[:])
        assert f.attrs["recording_uuid"] == rec.uuid
    # one stream, a sub-range, compressed
    a, b = sig.first_index + 100, sig.first_index + 700
    to_hdf5(sig, tmp_path / "part.h5", a, b, fill=0, compression="gzip", progress=False)
    with h5py.File(tmp_path / "part.h5") as f:
        assert f["sig"].attrs["start_index"] == a
        np.testing.assert_array_equal(f["sig"]["data"][()], sig.read(a, b, fill=0))


def test_hdf5_video_stream(video_rec, tmp_path):
    from acqflow.storage.export_hdf5 import to_hdf5
    to_hdf5(video_rec["cam"], tmp_path / "cam.h5", progress=False)
    with h5py.File(tmp_path / "cam.h5") as f:
        data = f["cam"]["data"][()]
        assert data.shape == (30, H, W, 3) and list(map(tuple, f["cam"]["gaps"][()])) == [(20, 25)]
        np.testing.assert_array_equal(data[:20], smooth(0, 20))
        assert not data[20:25].any()
        assert json.loads(f["cam"].attrs["codec"])["name"] == "png"
