"""Export of compressed video by remux: the stored packets copied into MKV/MP4 (NAL units
bit-identical; FFV1 packets byte-identical), each frame at its recorded time, readable by
PyAV, OpenCV and ffprobe (when installed); re-encoding only when asked; NWB."""
import json
import shutil
import subprocess

import numpy as np
import pytest

from acqflow.commands.rec import main as rec_cli
from acqflow.storage.export_remux import nal_units, remux_frames, to_remux
from tests.storage.videopk import record

av = pytest.importorskip("av")


@pytest.fixture(scope="module")
def recs(tmp_path_factory):
    root = tmp_path_factory.mktemp("remux")
    return {name: record(root / name, {"name": name, "gop": 10}, n=45, pause_at=25)
            for name in ("h264", "hevc", "ffv1")}


def demux(path):
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        return [(bytes(p), float(p.pts * st.time_base), p.is_keyframe)
                for p in c.demux(st) if p.size]


def decoded(path):
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


@pytest.mark.parametrize("name,suffix", [("h264", ".mkv"), ("h264", ".mp4"),
                                         ("hevc", ".mkv"), ("hevc", ".mp4"),
                                         ("ffv1", ".mkv")])
def test_remux_copies_packets_at_recorded_times(recs, tmp_path, name, suffix):
    rec = recs[name]
    cam = rec["cam"]
    out = to_remux(cam, tmp_path / f"out{suffix}")
    stored = [bytes(d) for _, d in rec.record_payloads(cam, 0, cam.n_records)]
    got = demux(out)
    assert len(got) == len(stored) == 45
    for (data, _, key), raw, flag in zip(got, stored, cam.record_table()["flags"]):
        if name == "ffv1":
            assert data == raw
        else:
            assert nal_units(data, length_prefixed=True) == nal_units(raw)
        assert key == bool(flag)
    times = np.array([t for _, t, _ in got])
    rel = cam.times() - cam.times()[0]
    np.testing.assert_allclose(times, rel, atol=1e-3 if suffix == ".mkv" else 1e-4)
    assert times[25] - times[24] == pytest.approx(0.5 + 1 / 30, abs=2e-3)   # VFR kept
    frames = decoded(out)                      # PyAV decodes them to the stored frames
    np.testing.assert_array_equal(frames[30], cam[30])
    import cv2
    cap = cv2.VideoCapture(str(out))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    assert n == 45


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_ffprobe_sees_the_recorded_times(recs, tmp_path, suffix):
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe not installed (./run installs Debian's ffmpeg for it)")
    out = to_remux(recs["h264"]["cam"], tmp_path / f"probe{suffix}")
    res = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=codec_name:packet=pts_time,flags", "-of", "json", str(out)],
                         capture_output=True, text=True, check=True)
    probed = json.loads(res.stdout)
    assert probed["streams"][0]["codec_name"] == "h264"
    cam = recs["h264"]["cam"]
    pts = [float(p["pts_time"]) for p in probed["packets"]]
    atol = 1e-4 if suffix == ".mp4" else 1e-3          # MKV's clock: 1 ms
    np.testing.assert_allclose(pts, cam.times() - cam.times()[0], atol=atol)
    keys = [p["flags"].startswith("K") for p in probed["packets"]]
    assert keys == list(cam.record_table()["flags"] & 1 == 1)


def test_export_from_the_middle_starts_at_the_keyframe_before(recs, tmp_path):
    cam = recs["h264"]["cam"]
    idx, t = remux_frames(cam, tmp_path / "mid.mkv", 23, 35)
    assert idx[0] == 20 and idx[-1] == 34
    assert len(demux(tmp_path / "mid.mkv")) == 15


def test_refusals_are_one_line(recs, tmp_path):
    with pytest.raises(ValueError, match="FFV1 goes in .mkv"):
        to_remux(recs["ffv1"]["cam"], tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="remux writes"):
        to_remux(recs["h264"]["cam"], tmp_path / "x.avi")
    to_remux(recs["h264"]["cam"], tmp_path / "y.mkv")
    with pytest.raises(FileExistsError):
        to_remux(recs["h264"]["cam"], tmp_path / "y.mkv")


def test_cli_export_remuxes_and_reencodes_when_asked(recs, tmp_path, capsys):
    path = recs["h264"].url
    assert rec_cli(["export", path, "cam", "--out", str(tmp_path / "a.mkv"), "-q"]) == 0
    stored = [bytes(d) for _, d in recs["h264"].record_payloads(recs["h264"]["cam"], 0, 45)]
    assert [nal_units(p, True) for p, _, _ in demux(tmp_path / "a.mkv")] == \
        [nal_units(s) for s in stored]
    assert rec_cli(["export", path, "cam", "--out", str(tmp_path / "b.mkv"), "--reencode",
                    "-q"]) == 0
    with av.open(str(tmp_path / "b.mkv")) as c:
        assert c.streams.video[0].codec_context.name == "ffv1"      # re-encoded


def test_nwb_external_file_from_the_remux(recs, tmp_path):
    pytest.importorskip("pynwb")
    from acqflow.storage.export_nwb import to_nwb
    from tests.storage.test_export_times import nwb_problems, read_nwb
    cam = recs["h264"]["cam"]
    to_nwb(cam, tmp_path / "s.nwb", progress=False)
    assert not nwb_problems(tmp_path / "s.nwb")
    movie = tmp_path / "s_cam.mp4"
    got = demux(movie)
    io, f = read_nwb(tmp_path / "s.nwb")
    with io:
        series = f.acquisition["cam"]
        assert list(series.external_file[:]) == ["s_cam.mp4"]
        ts = series.timestamps[()]
    np.testing.assert_allclose(ts - ts[0], [t for _, t, _ in got], atol=1e-4)
    assert len(ts) == 45
