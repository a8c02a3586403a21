"""Video streams: raw frames, or per-frame PNG/JPEG through OpenCV, randomly accessible."""
import numpy as np
import pytest

from acqflow.storage import RecordingWriter, open_recording

H, W = 48, 64


def frames(start, stop, channels=3):
    i = np.arange(start, stop)[:, None, None, None]
    y = np.arange(H)[None, :, None, None]
    x = np.arange(W)[None, None, :, None]
    c = np.arange(channels)[None, None, None, :]
    return ((i * 3 + y * 2 + x + c * 50) % 256).astype(np.uint8)


def params(channels=3):
    return {"streamtype": "video", "shape": (-1, H, W, channels), "sample_rate": 30.0}


@pytest.mark.parametrize("codec", [None, "png", {"name": "png", "level": 6}])
def test_lossless_video(tmp_path, codec):
    path = tmp_path / "rec"
    with RecordingWriter(path, block_s=3600, block_bytes=40_000) as w:
        w.add_stream("cam", params(), codec=codec)
        for k in range(40):
            w.write("cam", frames(k, k + 1), timestamp=1000 + k / 30)
        w.write("cam", frames(40, 43))  # a chunk of several frames
    cam = open_recording(path)["cam"]
    assert len(cam) == 43 and cam.n_records == 41
    np.testing.assert_array_equal(cam[:], frames(0, 43))
    np.testing.assert_array_equal(cam[17], frames(17, 18)[0])
    np.testing.assert_array_equal(cam[41:42], frames(41, 42))
    assert cam.codec == (None if codec is None else
                         {"name": "png", "level": 1 if codec == "png" else 6})
    if codec:
        assert sum(b.length for b in cam.recording._index.blocks) < frames(0, 43).nbytes


def test_jpeg_is_lossy_but_close(tmp_path):
    path = tmp_path / "rec"
    with RecordingWriter(path) as w:
        w.add_stream("cam", params(), codec={"name": "mjpg", "quality": 95})
        w.add_stream("gray", params(1), codec="jpg")
        smooth = np.broadcast_to(np.linspace(0, 255, W, dtype=np.uint8)[None, None, :, None],
                                 (5, H, W, 3)).copy()
        w.write("cam", smooth)
        w.write("gray", smooth[..., :1])
    rec = open_recording(path)
    got = rec["cam"][:]
    assert got.shape == smooth.shape and got.dtype == np.uint8
    assert np.abs(got.astype(int) - smooth).mean() < 3
    assert rec["gray"][2].shape == (H, W, 1)


def test_codec_validation(tmp_path):
    with RecordingWriter(tmp_path / "rec") as w:
        with pytest.raises(ValueError):
            w.add_stream("cam", params(), codec="h266")
        with pytest.raises(ValueError):
            w.add_stream("rgba", params(4), codec="jpg")
        with pytest.raises(ValueError):
            w.add_stream("sig", {"streamtype": "analogsignal", "shape": (-1, 2)}, codec="png")
        w.add_stream("rgba", params(4), codec="png")
        w.write("rgba", frames(0, 2, 4))
    np.testing.assert_array_equal(open_recording(tmp_path / "rec")["rgba"][:], frames(0, 2, 4))
