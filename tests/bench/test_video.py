"""`acqflow bench video` runs tiny (a few frames) and writes its JSON rows: one per codec, then
PyAV alone and OpenCV (no timing assertions: the figures are the benchmark's)."""
import json

import pytest

from acqflow.commands import main as cli_main

pytest.importorskip("cv2")
from acqflow.bench import video  # noqa: E402

MEASURES = {"fps", "cpu_ms_per_frame", "cores", "bytes_per_frame", "psnr", "random_ms_median", "read_fps"}
av = None
try:
    import av
except ImportError:
    pass


def test_video_bench_rows_per_codec_and_references(tmp_path, capsys):
    out = tmp_path / "video.json"
    assert cli_main(["bench", "video", "--size", "64x48", "--seconds", "0.2", "--reads", "3",
                     "--codecs", "raw,png,jpg,h264", "--rate", "100", "--json", str(out), "--dir", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "frames/s" in table and "PSNR dB" in table and "random ms" in table
    data = json.loads(out.read_text())
    assert data["size"] == [64, 48] and data["frames"] == 6 and data["rate"] == 100 and data["machine"]["cpus"] >= 1
    rows = {r["codec"]: r for r in data["results"]}
    assert list(rows) == ["raw", "png", "jpg", "h264", "pyav libx264", "opencv mp4v"]
    for name, row in rows.items():
        if "error" in row:                    # a codec this build's Recorder lacks says so
            assert name in ("h264", "pyav libx264") and \
                row["error"].startswith((video.NOT_AVAILABLE, "not installed")), row
            continue
        assert MEASURES <= set(row), row
        assert row["fps"] > 0 and row["bytes_per_frame"] > 0 and row["read_fps"] > 0
    for name in ("raw", "png", "jpg", "opencv mp4v"):
        assert "error" not in rows[name]
    assert rows["raw"]["stored"] == rows["png"]["stored"] == 6
    assert rows["raw"]["psnr"] is None and rows["png"]["psnr"] is None   # lossless: exact frames
    assert rows["jpg"]["psnr"] > 20
    assert rows["png"]["replayed"] == 6 and rows["png"]["replay_s"] > 0      # paced: replayed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["video.json"]   # its files removed


@pytest.mark.parametrize("argv, message", [
    (["--size", "big"], "--size must be 720p, 1080p or WxH, got 'big'"),
    (["--size", "65x48"], "--size must be WxH with an even width and height in 16..8192, got '65x48'"),
    (["--seconds", "0"], "--seconds must be > 0, got 0.0"),
    (["--rate", "-30"], "--rate must be > 0, got -30.0"),
])
def test_video_bench_rejects_bad_options(argv, message, capsys):
    with pytest.raises(SystemExit):
        video.main(argv)
    assert message in capsys.readouterr().err


@pytest.mark.skipif(av is None, reason="PyAV not installed")
def test_two_cameras_encoder_cpu_and_ratios_to_pyav(tmp_path, capsys):
    out = tmp_path / "video.json"
    assert cli_main(["bench", "video", "--size", "64x48", "--seconds", "0.2", "--reads", "2", "--cameras", "2",
                     "--scene", "smooth", "--codecs", "h264", "--rate", "100", "--json", str(out),
                     "--dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "2 cameras" in text and "enc CPU ms/frame" in text
    assert "h264 x2 / pyav libx264" in text and "bytes per frame x" in text and "overhead" in text
    data = json.loads(out.read_text())
    assert data["cameras"] == 2 and data["scene"] == "smooth"
    rows = {r["codec"]: r for r in data["results"]}
    assert rows["h264 x2"]["stored"] == 12 and rows["h264 x2"]["dropped"] == 0
    assert rows["h264 x2"]["enc_cpu_ms_per_frame"] > 0 and rows["pyav libx264"]["enc_cpu_ms_per_frame"] > 0


@pytest.mark.skipif(av is None, reason="PyAV not installed")
def test_export_hour_mode_stores_packets_and_times_the_remux(tmp_path, capsys):
    from acqflow.bench.videoexport import export_hour
    out = tmp_path / "hour.json"
    assert export_hour(64, 48, "pattern", str(tmp_path), str(out), frames=95) == 0
    text = capsys.readouterr().out
    assert "95 frames" in text and "mkv:" in text and "mp4:" in text
    rows = json.loads(out.read_text())["results"]
    assert [r["format"] for r in rows] == ["mkv", "mp4"] and all(r["frames"] == 95 for r in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hour.json"]


@pytest.mark.parametrize("argv, message", [
    (["--cameras", "0"], "--cameras must be in 1..8, got 0"),
    (["--minutes", "0"], "--minutes must be > 0, got 0.0"),
    (["--scene", "noise"], "invalid choice: 'noise'"),
])
def test_video_bench_rejects_bad_mode_options(argv, message, capsys):
    with pytest.raises(SystemExit):
        video.main(argv)
    assert message in capsys.readouterr().err
