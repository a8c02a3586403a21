"""`acqflow bench video` runs tiny (a few frames) and writes its JSON rows: one per codec, then
PyAV alone and OpenCV (no timing assertions: the figures are the benchmark's)."""
import json

import pytest

from acqflow.cli import main as cli_main

pytest.importorskip("cv2")
from acqflow.bench import video  # noqa: E402

MEASURES = {"fps", "cpu_ms_per_frame", "cores", "bytes_per_frame", "psnr", "random_ms_median", "read_fps"}


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
