"""Video exports keep colours: a red frame is red in MKV, MP4, AVI and the NWB's external MP4,
whatever the stream's pixel_format (read back with OpenCV, BGR, and PyAV, RGB)."""
import numpy as np
import pytest

from acqflow.storage import RecordingWriter, open_recording
from acqflow.storage.export_video import frame_format, to_video
from acqflow.testing import read_node

cv2 = pytest.importorskip("cv2")
av = pytest.importorskip("av")

H, W, N = 48, 64, 6
RED = {"bgr": (0, 0, 255), "rgb": (255, 0, 0), "bgra": (0, 0, 255, 255),
       "rgba": (255, 0, 0, 255)}


def red_frames(pixel_format: str) -> np.ndarray:
    return np.broadcast_to(np.array(RED[pixel_format], np.uint8), (N, H, W, len(RED[pixel_format])))


def camera_frames(tmp_path) -> tuple[dict, np.ndarray]:
    """Params and frames of a Camera(pixel_format='rgb') reading a pure-red file."""
    from acqflow.devices import Camera
    src = str(tmp_path / "red.avi")
    writer = cv2.VideoWriter(src, cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (W, H))
    for _ in range(N):
        writer.write(np.full((H, W, 3), RED["bgr"], np.uint8))
    writer.release()
    node = Camera(name="cam")
    video, = read_node(node, ["video"], device=src, realtime=False, loop=True, pixel_format="rgb")
    node.start()
    try:
        frames = np.concatenate([video.recv(timeout=10000)[1] for _ in range(N)])
    finally:
        node.stop()
        video.close()
        node.close()
    return dict(node.outputs["video"].params), frames


@pytest.fixture(scope="module")
def red_rec(tmp_path_factory):
    """'camera': a Camera's rgb frames; 'rgb', 'bgr', ...: synthetic red frames in that order;
    'plain': BGR frames with no pixel_format (OpenCV's order is the default)."""
    tmp = tmp_path_factory.mktemp("red")
    params, frames = camera_frames(tmp)
    assert params["pixel_format"] == "rgb" and (frames[..., 0] > 200).all()
    with RecordingWriter(tmp / "rec") as w:
        w.add_stream("camera", params)
        w.write("camera", frames, timestamp=1000.0)
        for fmt in RED:
            w.add_stream(fmt, {"streamtype": "video", "shape": (-1, H, W, len(RED[fmt])),
                               "sample_rate": 25.0, "pixel_format": fmt})
            w.write(fmt, red_frames(fmt), timestamp=1000.0)
        w.add_stream("plain", {"streamtype": "video", "shape": (-1, H, W, 3), "sample_rate": 25.0})
        w.write("plain", red_frames("bgr"), timestamp=1000.0)
    return open_recording(tmp / "rec")


def assert_red(path):
    """Every frame of ``path`` is red, read by OpenCV (BGR) and by PyAV (RGB)."""
    cap = cv2.VideoCapture(str(path))
    bgr = []
    while (got := cap.read())[0]:
        bgr.append(got[1])
    cap.release()
    with av.open(str(path)) as c:
        rgb = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(bgr) == len(rgb) == N, path
    b, g, r = np.asarray(bgr, float).mean(axis=(0, 1, 2))
    assert r > 200 and b < 50 and g < 50, f"{path}: OpenCV reads (b, g, r) = {(b, g, r)}"
    r, g, b = np.asarray(rgb, float).mean(axis=(0, 1, 2))
    assert r > 200 and b < 50 and g < 50, f"{path}: PyAV reads (r, g, b) = {(r, g, b)}"


STREAMS = ["camera", *RED, "plain"]


@pytest.mark.parametrize("suffix", [".mkv", ".mp4", ".avi"])
@pytest.mark.parametrize("name", STREAMS)
def test_red_frames_export_red(red_rec, tmp_path, name, suffix):
    assert_red(to_video(red_rec[name], tmp_path / f"{name}{suffix}", progress=False))


@pytest.mark.parametrize("name", ["camera", "rgb"])
def test_red_frames_in_the_nwb_external_mp4(red_rec, tmp_path, name):
    pytest.importorskip("pynwb")
    from acqflow.storage.export_nwb import to_nwb
    to_nwb(red_rec[name], tmp_path / "rec.nwb", progress=False)
    assert_red(tmp_path / f"rec_{name}.mp4")


def test_an_imported_video_re_exports_red(tmp_path):
    from acqflow.storage import import_media
    src = tmp_path / "red.mkv"
    writer = cv2.VideoWriter(str(src), cv2.VideoWriter_fourcc(*"FFV1"), 25.0, (W, H))
    for _ in range(N):
        writer.write(np.full((H, W, 3), RED["bgr"], np.uint8))
    writer.release()
    rec = open_recording(import_media(src, tmp_path / "rec"))
    assert rec["video"].params["pixel_format"] == "bgr"
    assert_red(to_video(rec["video"], tmp_path / "again.mp4", progress=False))


def test_gray_and_unknown_pixel_formats(red_rec, tmp_path):
    with RecordingWriter(tmp_path / "rec") as w:
        w.add_stream("g", {"streamtype": "video", "shape": (-1, H, W, 1), "sample_rate": 25.0,
                           "pixel_format": "gray"})
        w.write("g", np.full((N, H, W, 1), 200, np.uint8), timestamp=1.0)
        w.add_stream("hsv", {"streamtype": "video", "shape": (-1, H, W, 3), "sample_rate": 25.0,
                             "pixel_format": "hsv"})
        w.write("hsv", red_frames("bgr"), timestamp=1.0)
    rec = open_recording(tmp_path / "rec")
    assert frame_format(rec["g"]) == "gray"
    with av.open(str(to_video(rec["g"], tmp_path / "g.mkv", progress=False))) as c:
        assert all((f.to_ndarray(format="gray") == 200).all() for f in c.decode(video=0))
    with pytest.raises(ValueError, match="unknown pixel_format 'hsv'.*pass pixel_format="):
        to_video(rec["hsv"], tmp_path / "hsv.mkv", progress=False)
    assert not (tmp_path / "hsv.mkv").exists()
    assert_red(to_video(rec["hsv"], tmp_path / "hsv.mkv", progress=False, pixel_format="bgr"))
