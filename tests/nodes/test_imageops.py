"""Image nodes on video streams, against OpenCV frame by frame; lazy cv2; refused inputs."""
import sys

import cv2
import numpy as np
import pytest

from acqflow.nodes import Blur, ColorConvert, Crop, FrameDiff, MotionEnergy, Resize
from acqflow.nodes import imageops
from acqflow.testing import loaded_after_import
from tests.nodes.util import Pipeline, source

H, W = 24, 32


def frames(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, H, W, 3), dtype=np.uint8)


def run(node, video, chunks=(2, 1, 3), **config):
    p = Pipeline(node, dict(streamtype="video", shape=(-1, H, W, 3), sample_rate=30.0), **config)
    k = 0
    for n in chunks:
        p.send(video[k:k + n])
        k += n
    p.sink.wait_index(k)
    out, params = p.sink.data(), p.node.output.params
    p.close()
    return out, params


def test_color_convert_resize_crop_blur_match_opencv():
    x = frames(6)
    out, params = run(ColorConvert(), x, code="BGR2GRAY")
    assert params["shape"] == (-1, H, W) and params["streamtype"] == "video"
    np.testing.assert_array_equal(out, [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in x])
    out, params = run(Resize(), x, width=16, height=12, interpolation="area")
    assert params["shape"] == (-1, 12, 16, 3)
    np.testing.assert_array_equal(out, [cv2.resize(f, (16, 12), interpolation=cv2.INTER_AREA) for f in x])
    out, params = run(Resize(), x, scale=0.5)
    assert params["shape"] == (-1, 12, 16, 3)
    out, params = run(Crop(), x, x=4, y=2, width=10, height=8)
    assert params["shape"] == (-1, 8, 10, 3)
    np.testing.assert_array_equal(out, x[:, 2:10, 4:14])
    out, _ = run(Blur(), x, ksize=5, sigma=1.5)
    np.testing.assert_array_equal(out, [cv2.GaussianBlur(f, (5, 5), 1.5) for f in x])
    out, _ = run(Blur(), x, ksize=3, kind="median")
    np.testing.assert_array_equal(out, [cv2.medianBlur(f, 3) for f in x])


@pytest.mark.parametrize("code, pixel_format", [("BGR2GRAY", "gray"), ("BGR2RGB", "rgb"),
                                                ("RGB2BGRA", "bgra"), ("YUV2RGB_NV12", "rgb")])
def test_color_convert_says_its_output_pixel_format(code, pixel_format):
    conv = ColorConvert(name="cc")
    conv.configure(code=code)
    shape = (-1, H * 3 // 2, W) if code.endswith("NV12") else (-1, H, W, 3)
    params = conv.output_params(dict(streamtype="video", shape=shape, dtype="uint8",
                                     sample_rate=30.0, pixel_format="bgr"))
    assert params["pixel_format"] == pixel_format


def test_frame_diff_and_motion_energy_restart_after_gaps():
    x = frames(6, seed=1)
    out, params = run(FrameDiff(), x)
    assert params["shape"] == (-1, H, W, 3)
    np.testing.assert_array_equal(out[0], 0)
    np.testing.assert_array_equal(out[1:], [cv2.absdiff(a, b) for a, b in zip(x[1:], x[:-1])])
    p = Pipeline(MotionEnergy(name="me"), dict(streamtype="video", shape=(-1, H, W, 3)),
                 roi=(0, 0, 16, 12))
    params = p.node.output.params
    assert params["streamtype"] == "analogsignal" and params["shape"] == (-1, 1)
    p.send(x[:3])
    p.send(x[4:], index=6)                      # frame 3 lost
    p.sink.wait_index(6)
    energy = p.sink.data()[:, 0]
    ref = [np.abs(a[:12, :16].astype(int) - b[:12, :16].astype(int)).mean() for a, b in zip(x[1:], x)]
    assert np.isnan(energy[0]) and np.isnan(energy[3])          # no predecessor
    np.testing.assert_allclose(energy[[1, 2, 4]], [ref[0], ref[1], ref[4]], rtol=1e-6)
    assert [i for i, _ in p.sink.chunks] == [3, 6]
    p.close()


def test_wrong_inputs_and_parameters_are_refused():
    analog = source(dtype="float32", shape=(-1, 2))
    gray = source(streamtype="video", shape=(-1, H, W))
    node = Blur(name="blur")
    node.configure(ksize=3)
    with pytest.raises(ValueError, match=r"requires 'video', output src gives 'analogsignal'"):
        node.input.connect(analog)
    crop = Crop(name="crop")
    crop.configure(x=30, y=0, width=8, height=4)
    with pytest.raises(ValueError, match=r"node 'crop': cannot process frames .* not inside 32x24"):
        crop.input.connect(gray)
    conv = ColorConvert(name="cc")
    conv.configure(code="NOPE")
    with pytest.raises(ValueError, match=r"node 'cc'.*code='NOPE' is not an OpenCV colour conversion"):
        conv.input.connect(gray)
    with pytest.raises(ValueError, match="ksize must be an odd int"):
        Blur().configure(ksize=4)
    for obj in (analog, gray, node, crop, conv):
        obj.close()


def test_cv2_is_imported_lazily_with_a_clear_error(monkeypatch):
    assert loaded_after_import("acqflow.nodes", ["cv2"]) == []
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(ImportError, match=r"acqflow\[video\]"):
        imageops.cv2_module()
