"""Camera on a video file written by cv2.VideoWriter; each frame shows its number as 8 blocks."""
import numpy as np
import pytest

from acqflow import InputStream, StreamClosed
from acqflow.testing import wait_for

cv2 = pytest.importorskip("cv2")
from acqflow.devices import Camera  # noqa: E402

W, H, N, FPS = 64, 48, 30, 30.0


def frame_for(k: int) -> np.ndarray:
    """Bits of k as 8 dark/bright 8x24 blocks (robust to MJPEG); a red bottom strip."""
    img = np.full((H, W, 3), 60, np.uint8)
    for bit in range(8):
        if k >> bit & 1:
            img[:24, bit * 8:(bit + 1) * 8] = 230
    img[36:, :] = (0, 0, 255)          # BGR red
    return img


def number_in(frame: np.ndarray) -> int:
    gray = frame if frame.ndim == 2 else frame.mean(axis=2)
    cols = gray.shape[1] // 8
    top = gray[: gray.shape[0] // 2]
    return sum(1 << b for b in range(8) if top[:, b * cols:(b + 1) * cols].mean() > 145)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("video") / "counter.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), FPS, (W, H))
    assert writer.isOpened()
    for k in range(N):
        writer.write(frame_for(k))
    writer.release()
    return path


def open_camera(**kw):
    node = Camera(name="cam")
    node.configure(**kw)
    node.outputs["video"].configure(protocol="inproc")
    node.outputs["timestamps"].configure(protocol="inproc")
    node.initialize()
    video, stamps = InputStream(), InputStream()
    video.connect(node.outputs["video"])
    stamps.connect(node.outputs["timestamps"])
    return node, video, stamps


def read_frames(video, stamps, n):
    frames, times, indexes = [], [], []
    for _ in range(n):
        i, f = video.recv(timeout=10000)
        j, t = stamps.recv(timeout=10000)
        assert i == j                                  # same absolute index on both outputs
        frames.append(f[0])
        times.append(t[0])
        indexes.append(i)
    return frames, np.array(times), indexes


def test_file_frames_timestamps_and_end_of_file(video):
    node, vin, tin = open_camera(device=video, realtime=False)
    vp, tp = node.outputs["video"].params, node.outputs["timestamps"].params
    assert (vp["streamtype"], vp["shape"], vp["sample_rate"]) == ("video", (-1, H, W, 3), FPS)
    assert tp["shape"] == (-1, 2) and [c["name"] for c in tp["channel_info"]] == \
        ["capture_time", "media_time"]
    assert node.frame_count == N
    node.start()
    frames, times, indexes = read_frames(vin, tin, N)
    assert [number_in(f) for f in frames] == list(range(N))
    assert indexes == list(range(1, N + 1))
    assert (np.diff(times[:, 0]) >= 0).all()                     # capture times, our clock
    np.testing.assert_allclose(times[:, 1], np.arange(N) / FPS, atol=0.002)   # media times
    with pytest.raises(StreamClosed):                # end of file: outputs closed, no hang
        vin.recv(timeout=10000)
    wait_for(lambda: node.state == "error")
    assert node.error_reason.startswith("end of file") and f"after {N} frames" in node.error_reason
    assert node.end_of_file.is_set()
    node.close()
    assert node.state == "closed"


def test_loop_paced_and_restart_keeps_indexes(video):
    node, vin, tin = open_camera(device=video, loop=True, fps=300.0)
    node.start()
    frames, _, indexes = read_frames(vin, tin, N + 5)
    node.stop()
    while vin.poll(300):                 # drain frames sent before stop()
        indexes.append(vin.recv()[0])
        frames.append(None)
        tin.recv(timeout=5000)
    node.start()
    i, f = vin.recv(timeout=10000)
    node.close()
    numbers = [number_in(f) for f in frames if f is not None]
    assert numbers == [k % N for k in range(N + 5)]
    assert node.loops >= 1 and vin.gaps == 0
    assert i == indexes[-1] + 1


@pytest.mark.parametrize("fmt", ["rgb", "gray"])
def test_pixel_format_and_resize(video, fmt):
    node, vin, tin = open_camera(device=video, realtime=False, pixel_format=fmt, width=32)
    shape = (-1, 24, 32) if fmt == "gray" else (-1, 24, 32, 3)
    assert node.outputs["video"].params["shape"] == shape
    node.start()
    frames, _, _ = read_frames(vin, tin, 5)
    node.close()
    assert [number_in(f) for f in frames] == [0, 1, 2, 3, 4]
    strip = frames[0][20:].astype(int)
    if fmt == "rgb":
        assert strip[..., 0].mean() > 200 and strip[..., 2].mean() < 50       # red first
    else:
        assert 60 < strip.mean() < 90                                         # red as luma


@pytest.mark.parametrize("kw, message", [
    ({"device": "/nonexistent/clip.avi"}, "video file '/nonexistent/clip.avi' does not exist"),
    ({"device": 7}, r"cannot open camera 7; video devices: "),
    ({"pixel_format": "yuv"}, "unknown pixel_format 'yuv'; available: bgr, rgb, gray"),
    ({"width": 0}, "width must be an int in 1..16384"),
    ({"fps": -1}, "fps must be > 0"),
])
def test_bad_parameters(kw, message, video):
    node = Camera()
    kw.setdefault("device", video)
    with pytest.raises(ValueError, match=message):
        node.configure(**kw)
    assert node.state == "new"


def test_not_a_video(tmp_path):
    bogus = tmp_path / "notes.avi"
    bogus.write_text("not a video")
    with pytest.raises(ValueError, match="OpenCV cannot open"):
        Camera().configure(device=str(bogus))
