"""PacketCamera on files PyAV writes (H.264 .mkv, HEVC .mkv, MJPEG .avi): the packets go out
as the file holds them (H.264/HEVC in Annex B), paced like a camera, stamped at capture, and
frames missing from the file are gaps."""
import numpy as np
import pytest

from acqflow import StreamClosed
from acqflow.dataflow.streams import packets
from acqflow.testing import read_node
from tests.devices.packetvideo import FPS, H, W, source_packets, write_video

av = pytest.importorskip("av")
from acqflow.devices import PacketCamera  # noqa: E402


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("packetcam")
    out = {c: write_video(root, c) for c in ("h264", "hevc", "mjpeg")}
    out["skips"] = write_video(root, "h264", n=30, skip=frozenset({5, 6, 20}), name="skips")
    out["bframes"] = write_video(root, "h264-bframes", n=20)
    out["mpeg4"] = write_video(root, "mpeg4", n=5)
    return out


def open_camera(**kw):
    node = PacketCamera(name="pcam")
    pk, ts = read_node(node, ["packets", "timestamps"], **kw)
    return node, pk, ts


def read_all(pk, ts):
    """(index, packet bytes, keyframe, capture time, media time) until the end of the file."""
    got = []
    while True:
        try:
            i, chunk = pk.recv(timeout=10000)
        except StreamClosed:
            return got
        j, t = ts.recv(timeout=10000)
        assert i == j                             # one index on both outputs
        p = packets.split(chunk)
        got.append((i, bytes(p.data), p.keyframe, t[0, 0], t[0, 1]))


@pytest.mark.parametrize("codec", ["h264", "hevc", "mjpeg"])
def test_packets_go_out_as_the_file_holds_them(files, codec):
    node, pk, ts = open_camera(device=files[codec], fps=120)       # paced at 120 frames/s
    params = node.outputs["packets"].params
    assert params["streamtype"] == "packets" and params["sample_rate"] == 120
    assert params["codec"]["name"] == codec and (params["codec"]["width"], params["codec"]["height"]) == (W, H)
    node.start()
    got = read_all(pk, ts)
    assert node.state == "error" and "end of file" in node.error_reason
    assert [(d, k) for _, d, k, _, _ in got] == source_packets(files[codec])
    assert [g[0] for g in got] == list(range(1, 41))
    if codec == "mjpeg":
        assert all(k for _, _, k, _, _ in got)
    else:
        assert [k for _, _, k, _, _ in got] == [i % 10 == 0 for i in range(40)]
        assert all(d.startswith((b"\0\0\0\1", b"\0\0\1")) for _, d, _, _, _ in got)   # Annex B
    stamps = np.array([g[3] for g in got])
    assert (np.diff(stamps) > 0).all()                              # capture stamps, in order
    np.testing.assert_allclose([g[4] for g in got], np.arange(40) / FPS, atol=2e-3)  # media
    assert pk.gaps == 0 and node.skipped == 0
    node.close()


def test_frames_missing_from_the_file_are_gaps(files):
    node, pk, ts = open_camera(device=files["skips"], realtime=False)
    node.start()
    got = read_all(pk, ts)
    kept = [i for i in range(30) if i not in (5, 6, 20)]
    assert [g[0] - 1 for g in got] == kept                          # index = frame number
    assert node.skipped == 3
    assert [(a, b) for a, b, _ in pk.gap_log] == [(5, 7), (20, 21)] and pk.gaps == 2
    node.close()


def test_loop_continues_the_index(files):
    node, pk, ts = open_camera(device=files["mjpeg"], realtime=False, loop=True)
    node.start()
    indexes = [pk.recv(timeout=10000)[0] for _ in range(90)]
    node.close()
    assert indexes == list(range(1, 91)) and node.loops >= 2


@pytest.mark.parametrize("kw,match", [
    ({"device": "/nonexistent.mkv"}, "does not exist"),
    ({"device": "bframes"}, "B-frames"),
    ({"device": "mpeg4"}, "delivers 'mpeg4'"),
    ({"device": "h264", "width": 64}, "not resized"),
    ({"device": "h264", "input_format": "yuyv"}, "input_format='yuyv'"),
    ({"device": 3.5}, "device"),
])
def test_bad_sources_are_refused_by_name(files, kw, match):
    if kw["device"] in files:
        kw = {**kw, "device": files[kw["device"]]}
    with pytest.raises(ValueError, match=match):
        PacketCamera(name="pcam").configure(**kw)
