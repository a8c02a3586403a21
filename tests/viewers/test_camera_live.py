"""A Camera (OpenCV, on a video file the test writes) -> ImageViewer graph shows the frames live."""
import numpy as np
import pytest

from acqflow.viewers import ImageViewer

from acqflow.testing import wait_qt

from .conftest import close_all, color_mask, shot, to_pixel

cv2 = pytest.importorskip("cv2")
from acqflow.devices import Camera  # noqa: E402

pytestmark = pytest.mark.timeout(60)

H, W, N = 48, 64, 60


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """Frames whose left half is red and right half blue (BGR as OpenCV writes)."""
    path = str(tmp_path_factory.mktemp("live") / "halves.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (W, H))
    frame = np.zeros((H, W, 3), np.uint8)
    frame[:, :W // 2] = (0, 0, 255)
    frame[:, W // 2:] = (255, 0, 0)
    for _ in range(N):
        writer.write(frame)
    writer.release()
    return path


@pytest.mark.parametrize("transfermode", ["plaindata", "sharedmem"])
def test_camera_frames_are_shown_live_in_true_colours(qapp, clip, transfermode):
    cam = Camera(name="cam")
    cam.configure(device=clip, loop=True, fps=60.0)          # bgr frames, as a webcam's
    extra = {"buffer_size": 16} if transfermode == "sharedmem" else {}
    cam.outputs["video"].configure(protocol="inproc", transfermode=transfermode, **extra)
    cam.outputs["timestamps"].configure(protocol="inproc")
    cam.initialize()
    v = ImageViewer(name="view")
    v.configure(size=(400, 320))
    v.input.connect(cam.outputs["video"])
    v.initialize()
    v.start()
    cam.start()
    try:
        wait_qt(lambda: v.drawn_chunks >= 5, message="5 camera frames drawn")
        img = shot(v, f"camera_live_{transfermode}")
        vb = v.views["video"]
        left = to_pixel(vb, v.widget, v.widget, W * 0.25, H * 0.5)
        right = to_pixel(vb, v.widget, v.widget, W * 0.75, H * 0.5)
        assert color_mask(img[left[1]:left[1] + 1, left[0]:left[0] + 1], (255, 0, 0)).all()
        assert color_mask(img[right[1]:right[1] + 1, right[0]:right[0] + 1], (0, 0, 255)).all()
        assert color_mask(img, (255, 0, 0)).sum() > 500 and color_mask(img, (0, 0, 255)).sum() > 500
        assert cam.frames >= 5 and cam.skipped == 0
    finally:
        close_all(cam, v)
