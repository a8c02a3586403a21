"""Importing WAV and video files as recordings that index the original file (no copy)."""
import os
import struct
import wave

import numpy as np
import pytest

from acqflow.storage import RecordingExistsError, open_recording, to_wav
from acqflow.storage.external import ExternalFileChangedError, import_media


def write_wav(path, data, rate=8000, width=2):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(data.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(np.ascontiguousarray(data).tobytes())


def write_float_wav(path, data, rate):
    """IEEE-float WAV with an extra LIST chunk before 'data' (the parser must skip it)."""
    ch = data.shape[1]
    fmt = struct.pack("<HHIIHH", 3, ch, rate, rate * ch * 4, ch * 4, 32)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"LIST" + struct.pack("<I", 5) + b"abcde\0"
            + b"data" + struct.pack("<I", data.nbytes) + data.astype("<f4").tobytes())
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def sine(n, ch):
    return (np.sin(np.arange(n)[:, None] / 7.0 + np.arange(ch)) * 20000).astype("<i2")


def test_wav_import_slices_without_copy(tmp_path):
    x = sine(20_000, 3)
    write_wav(tmp_path / "a.wav", x, rate=8000)
    import_media(tmp_path / "a.wav", tmp_path / "rec", start_time=100.0)
    assert sorted(p.name for p in (tmp_path / "rec").iterdir()) == ["manifest.json"]
    assert (tmp_path / "rec" / "manifest.json").stat().st_size < 4000   # an index, no samples
    rec = open_recording(tmp_path / "rec")
    s = rec["audio"]
    assert rec.committed and rec.intact and len(s) == 20_000 and s.gaps == []
    assert s.dtype == np.dtype("<i2") and s.shape == (-1, 3) and s.sample_rate == 8000
    np.testing.assert_array_equal(s[:], x)
    np.testing.assert_array_equal(s[12_345:17_001], x[12_345:17_001])
    np.testing.assert_array_equal(s[-5:], x[-5:])
    assert s.time_at(8000) == pytest.approx(101.0)
    np.testing.assert_array_equal(s.time_slice(101.0, 101.5), x[8000:12000])
    r = s.reader(start=7990)
    stop, data = r.read(20)
    assert 7990 < stop <= 8010 and np.array_equal(data, x[7990:stop])
    to_wav(s, tmp_path / "back.wav", progress=False)                  # export round trip
    with wave.open(str(tmp_path / "back.wav")) as w:
        assert np.array_equal(np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 3), x)
    rec.close()


def test_float_and_8bit_wav(tmp_path):
    y = np.random.default_rng(1).standard_normal((3000, 2)).astype("<f4")
    write_float_wav(tmp_path / "f.wav", y, 1000)
    s = open_recording(import_media(tmp_path / "f.wav", tmp_path / "rf", name="mic"))["mic"]
    assert s.dtype == np.dtype("<f4")
    np.testing.assert_array_equal(s[10:2999], y[10:2999])
    u = (np.arange(500)[:, None] % 256).astype("u1")
    write_wav(tmp_path / "u.wav", u, width=1)
    np.testing.assert_array_equal(
        open_recording(import_media(tmp_path / "u.wav", tmp_path / "ru"))["audio"][:], u)


def test_changed_or_missing_file_is_a_clear_error(tmp_path):
    write_wav(tmp_path / "a.wav", sine(1000, 1))
    import_media(tmp_path / "a.wav", tmp_path / "rec")
    rec = open_recording(tmp_path / "rec")
    rec["audio"][:10]
    with open(tmp_path / "a.wav", "ab") as f:
        f.write(b"\0\0")
    with pytest.raises(ExternalFileChangedError, match="changed since the import") as err:
        rec["audio"][:10]
    assert "a.wav" in str(err.value) and "size" in str(err.value)
    with pytest.raises(ExternalFileChangedError):
        open_recording(tmp_path / "rec")
    st = os.stat(tmp_path / "a.wav")                    # same size, new mtime
    os.truncate(tmp_path / "a.wav", st.st_size - 2)
    os.utime(tmp_path / "a.wav", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(ExternalFileChangedError, match="mtime"):
        open_recording(tmp_path / "rec")
    os.unlink(tmp_path / "a.wav")
    with pytest.raises(ExternalFileChangedError, match="missing"):
        open_recording(tmp_path / "rec")


def test_import_refusals(tmp_path):
    write_wav(tmp_path / "a.wav", sine(100, 1))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(RecordingExistsError):
        import_media(tmp_path / "a.wav", tmp_path / "busy")
    with pytest.raises(FileNotFoundError):
        import_media(tmp_path / "nope.wav", tmp_path / "r")
    (tmp_path / "junk.bin").write_bytes(b"not media at all" * 10)
    with pytest.raises(ValueError, match="junk.bin"):
        import_media(tmp_path / "junk.bin", tmp_path / "r2")


def test_video_import_frames_through_opencv(tmp_path):
    cv2 = pytest.importorskip("cv2")
    h, w, n = 32, 48, 45
    frames = ((np.arange(n)[:, None, None, None] * 5 + np.arange(w)[None, None, :, None]
               + np.zeros((1, h, 1, 3))) % 256).astype("u1")
    vw = cv2.VideoWriter(str(tmp_path / "v.avi"), cv2.VideoWriter_fourcc(*"FFV1"), 15.0, (w, h))
    for f in frames:
        vw.write(f)
    vw.release()
    rec = open_recording(import_media(tmp_path / "v.avi", tmp_path / "rv", start_time=0.0))
    v = rec["video"]
    assert v.streamtype == "video" and len(v) == n and v.shape == (-1, h, w, 3)
    assert v.sample_rate == pytest.approx(15.0)
    np.testing.assert_array_equal(v[:], frames)
    np.testing.assert_array_equal(v[30:33], frames[30:33])   # seek forward
    np.testing.assert_array_equal(v[3], frames[3])           # and back
    np.testing.assert_array_equal(v.time_slice(1.0, 1.2), frames[15:18])
    rec.close()
