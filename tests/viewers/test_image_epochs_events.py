"""ImageViewer (grid, colours, fps, skipped frames), EpochViewer and EventRaster, from real streams."""
import numpy as np
import pytest

import acqflow
from acqflow.devices.events import EventSource
from acqflow.devices.synthetic import SyntheticSignal
from acqflow.nodes.epochs import Epocher
from acqflow.nodes.triggers import AnalogTrigger
from acqflow.viewers import EpochViewer, EventRaster, ImageViewer
from acqflow.testing import wait_qt

from .conftest import close_all, color_mask, shot, to_pixel

pytestmark = pytest.mark.timeout(60)

H, W = 60, 80


def video_out(transfermode, pixel_format):
    out = acqflow.OutputStream()
    extra = {"buffer_size": 16} if transfermode == "sharedmem" else {}
    out.configure(protocol="inproc", streamtype="video", shape=(-1, H, W, 3), sample_rate=30.0,
                  transfermode=transfermode, pixel_format=pixel_format, **extra)
    return out


def test_image_grid_of_two_cameras_colours_fps_and_skipped_frames(qapp):
    plain, shared = video_out("plaindata", "rgb"), video_out("sharedmem", "bgr")
    v = ImageViewer()
    v.configure(n_inputs=2, size=(700, 320))
    v.inputs["video"].connect(plain)
    v.inputs["video1"].connect(shared)
    v.initialize()
    v.start()
    try:
        frame = np.zeros((H, W, 3), np.uint8)
        frame[:, :W // 2] = (255, 0, 0)            # left half red, right half blue (RGB)
        frame[:, W // 2:] = (0, 0, 255)
        for i in range(30):
            if i % 3 == 0:
                v.pause()       # no refresh until the three frames of each input have arrived
            plain.send(frame[None])
            shared.send(frame[None, :, :, ::-1].copy())  # the same picture, as BGR
            if i % 3 == 2:
                wait_qt(lambda: v.received_chunks == 2 * (i + 1))
                v.resume()
                wait_qt(lambda: all(v._last_head[k] == i + 1 for k in v.inputs))
        assert v.skipped == 2 * 20                   # 2 of every 3 frames were never shown
        img = shot(v, "image_grid")
        for name in ("video", "video1"):
            vb = v.views[name]
            left = to_pixel(vb, v.widget, v.widget, W * 0.25, H * 0.5)
            right = to_pixel(vb, v.widget, v.widget, W * 0.75, H * 0.5)
            assert tuple(img[left[1], left[0], :3]) == (255, 0, 0), name
            assert tuple(img[right[1], right[0], :3]) == (0, 0, 255), name
        assert left[0] > img.shape[1] // 2            # the second camera is in the second column
        assert "fps" in v.captions["video"].text and "skipped" in v.captions["video"].text
        assert v.readers["video1"].ring is v.inputs["video1"].buffer   # zero-copy shared ring
    finally:
        v.close()
        plain.close()
        shared.close()


def test_epoch_viewer_overlays_square_wave_epochs_and_their_average(qapp):
    src = SyntheticSignal()
    src.configure(channels=2, sample_rate=1000.0, chunksize=20, waveform="square", frequencies=[4, 4])
    src.outputs["signals"].configure(protocol="inproc")
    src.initialize()
    trig = AnalogTrigger()
    trig.configure(channel=0, threshold=0.0, front="+", label="up")
    trig.input.connect(src.outputs["signals"])
    trig.output.configure(protocol="inproc")
    trig.initialize()
    ep = Epocher()
    ep.configure(pre=0.05, post=0.1)
    ep.inputs["signal"].connect(src.outputs["signals"])
    ep.inputs["events"].connect(trig.output)
    ep.output.configure(protocol="inproc")
    ep.initialize()
    v = EpochViewer()
    v.configure(max_epochs=5, size=(600, 450))
    v.input.connect(ep.output)
    v.initialize()
    for n in (v, ep, trig, src):
        n.start()
    try:
        wait_qt(lambda: v.n_epochs >= 3 and len(v._recent) >= 3, timeout=15)
        img = shot(v, "epochs")
        mean = v.average()
        assert mean.shape == (150, 2)
        # triggered on the rising edge: -1 before the trigger, +1 after
        np.testing.assert_allclose(mean[:45, 0], -1)
        np.testing.assert_allclose(mean[55:120, 0], 1)
        plot = v.plots[0]
        white = color_mask(img, v.mean_color(), tol=10)
        for t, level in ((-0.03, -1.0), (0.05, 1.0)):
            col, row = to_pixel(plot.vb, v.widget, v.widget, t, level)
            assert white[row - 2:row + 3, col].any(), (t, level)
            far = to_pixel(plot.vb, v.widget, v.widget, t, -level)[1]
            assert not white[far - 2:far + 3, col].any()
        assert v.counters()["drawn_chunks"] >= 1
    finally:
        close_all(src, trig, ep, v)


def test_event_raster_puts_each_label_in_its_lane(qapp):
    src = EventSource()
    src.configure()
    src.outputs["events"].configure(protocol="inproc")
    src.initialize()
    v = EventRaster()
    v.configure(xsize=5.0, lanes=["start"])
    v.input.connect(src.outputs["events"])
    v.initialize()
    v.start()
    src.start()
    try:
        now = acqflow.dataflow.streams.clock.now()
        for label, dt in (("start", -4.0), ("stim", -3.0), ("start", -2.0), ("resp", -1.0)):
            src.push_event(label, time=now + dt)
        wait_qt(lambda: len(v._events) == 4)
        frames = v.frames
        wait_qt(lambda: v.frames > frames + 2)
        assert v.lane_labels == [b"start", b"stim", b"resp"]
        ticks = [name for _, name in v.plot.getPlotItem().getAxis("left")._tickLevels[0]]
        assert ticks == ["start", "stim", "resp"]
        vb = v.plot.getPlotItem().getViewBox()
        v.pause()                       # keep what the grab shows and its time origin together
        img = shot(v, "events")
        elapsed = v.drawn_at - now
        for lane, label in enumerate(["start", "stim", "resp"]):
            mask = color_mask(img, v.lane_color(lane), tol=10)
            row = to_pixel(vb, v.plot, v.plot, 0, 2 - lane)[1]
            cols = np.flatnonzero(mask[row - 3:row + 4].any(0))
            expected = [dt for lab, dt in (("start", -4.0), ("stim", -3.0), ("start", -2.0),
                                           ("resp", -1.0)) if lab == label]
            for dt in expected:       # a tick where the event is (within the time elapsed since)
                c = to_pixel(vb, v.plot, v.plot, dt - elapsed, 0)[0]
                assert np.any(np.abs(cols - c) <= 5), (label, dt, cols, c)
            assert len(cols) < 12 * len(expected)
    finally:
        close_all(src, v)
