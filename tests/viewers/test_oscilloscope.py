"""Oscilloscope: what is drawn for known signals, sharedmem zero-copy, leakiness, controls."""
import numpy as np
import pytest

import acqflow
from acqflow.devices.synthetic import SyntheticSignal
from acqflow.testing import wait_for, wait_qt
from acqflow.viewers import Oscilloscope

from .conftest import close_all, color_mask, shot, to_pixel

pytestmark = pytest.mark.timeout(60)


def source(transfermode="plaindata", **kw):
    src = SyntheticSignal()
    src.configure(**kw)
    extra = {"buffer_size": 120000} if transfermode == "sharedmem" else {}
    src.outputs["signals"].configure(protocol="inproc", transfermode=transfermode, **extra)
    src.initialize()
    return src


def scope(src, **kw):
    v = Oscilloscope()
    v.configure(**kw)
    v.input.connect(src.outputs["signals"])
    v.initialize()
    return v


def pixel(v, x, y):
    return to_pixel(v.viewbox, v.plot, v.widget, x, y)


def test_square_wave_on_channel_0_is_drawn_in_its_lane_with_labels(qapp):
    src = source(channels=4, sample_rate=1000.0, chunksize=20, waveform="square",
                 frequencies=[2, 7, 11, 13], channel_names=["Fz", "Cz", "Pz", "Oz"])
    v = scope(src, xsize=1.0, size=(800, 500))
    v.start()
    src.start()
    try:
        wait_qt(lambda: v._autoscales == 2 and v.frames > 5, message="a full, auto-scaled window")
        img = shot(v, "oscilloscope_square")
        # auto-scale stacked the lanes top-down and fitted the +-1 square in 0.9 of a lane
        np.testing.assert_allclose(v.gains, 0.45, rtol=1e-3)
        assert [round(c) for c in v._centres] == [3, 2, 1, 0]
        ticks = v.plot.getPlotItem().getAxis("left")._tickLevels[0]
        assert [name for _, name in ticks] == ["Fz", "Cz", "Pz", "Oz"]
        ch0 = color_mask(img, v.channel_color(0), tol=10)
        (x0, row_hi), (x1, row_lo) = pixel(v, -1.0, 3.45), pixel(v, 0.0, 2.55)
        width = x1 - x0
        def band(r):
            return ch0[max(0, r - 1):r + 2, x0:x1].any(0).sum()
        # a 2 Hz square over 1 s: half the columns at the high level, half at the low one
        assert band(row_hi) > 0.35 * width and band(row_lo) > 0.35 * width
        rows = np.flatnonzero(ch0[:, x0:x1].any(1))
        assert rows.min() >= row_hi - 2 and rows.max() <= row_lo + 2       # nowhere else
        # the other channels stay in their own lanes
        for c in (1, 2, 3):
            rows = np.flatnonzero(color_mask(img, v.channel_color(c), tol=10)[:, x0:x1].any(1))
            top, bottom = pixel(v, 0, 3 - c + 0.5)[1], pixel(v, 0, 3 - c - 0.5)[1]
            assert len(rows) and rows.min() >= top and rows.max() <= bottom
        # channel labels: ink left of the plot at every lane centre
        for c in range(4):
            row = pixel(v, -1.0, 3 - c)[1]
            ink = img[row - 5:row + 6, :x0 - 8, :3].max(-1) > 100
            assert ink.sum() > 10, f"no label drawn for channel {c}"
        assert v.counters()["skipped"] == 0
    finally:
        close_all(src, v)


def test_sharedmem_is_read_zero_copy_and_a_one_sample_spike_stays_visible(qapp):
    fs = 30000
    buf = np.zeros((fs, 2), np.float32)
    buf[:, 0] = np.sin(2 * np.pi * 3 * np.arange(fs) / fs)
    buf[:, 1] = 0.2 * np.sin(2 * np.pi * 5 * np.arange(fs) / fs)
    buf[fs // 2, 1] = 3.0                       # one sample per second
    src = source("sharedmem", sample_rate=float(fs), chunksize=300, buffer=buf)
    v = scope(src, xsize=2.0, mode="scan", max_points=400)
    v.start()
    src.start()
    try:
        reader = v.readers["signals"]
        assert reader.ring is v.input.buffer and reader.ring.shm_id is not None
        assert v.input._buffer is None           # no local copy of the stream
        wait_qt(lambda: v._autoscales == 2 and v.frames > 3, message="a full window")
        assert v.env.k == 150 and v.env.nbuckets == 400
        img = shot(v, "oscilloscope_scan_spike")
        ch1 = color_mask(img, v.channel_color(1), tol=10)
        lane_top, plot_top = pixel(v, 0, 0.5)[1], pixel(v, 0, 1.5)[1]
        assert v.offsets[1] + 3.0 * v.gains[1] > 1.5  # the spike goes above the view...
        above = np.flatnonzero(ch1[:lane_top - 3].any(1))
        assert len(above) and above.min() <= plot_top + 3   # ...and is drawn up to its top
        assert v.cursor.isVisible()
    finally:
        close_all(src, v)


def test_slow_display_never_blocks_the_stream_and_counts_what_it_skipped(qapp):
    out = acqflow.OutputStream()
    out.configure(protocol="inproc", shape=(-1, 2), sample_rate=1000.0, backpressure="block", hwm=4)
    v = Oscilloscope()
    v.configure(xsize=1.0, max_points=500, show=False)
    v.input.connect(out)
    v.initialize()
    v.start()
    try:
        out.send(np.zeros((100, 2), np.float32))
        wait_qt(lambda: v.frames >= 1)
        # 20 s of signal while the GUI thread processes no event at all: a blocking
        # writer still goes through, since the reader thread drains the input
        for i in range(200):
            out.send(np.full((100, 2), i, np.float32))
        wait_for(lambda: v.received_chunks == 201, timeout=10)
        wait_qt(lambda: v.env.next == 20100)
        assert v.skipped == 20100 - 1000 - 100      # only the newest window was drawn
        assert v.input.dropped == 0
        assert v.env.maxs[v.env.last_bucket() % v.env.nbuckets, 0] == 199
    finally:
        v.close()
        out.close()


def test_pause_controls_and_channel_panel(qapp):
    src = source(channels=3, sample_rate=1000.0, chunksize=20, waveform="sine")
    v = scope(src, xsize=0.5)
    v.start()
    src.start()
    try:
        wait_qt(lambda: v._autoscales == 2)
        bar = v.controls
        bar.pause_button.setChecked(True)
        assert v.paused
        frames, chunks = v.frames, v.received_chunks
        wait_qt(lambda: v.received_chunks > chunks + 10)
        assert v.frames == frames                     # paused: nothing drawn, data still read
        bar.pause_button.setChecked(False)
        wait_qt(lambda: v.frames > frames)
        bar.mode.setCurrentText("scan")
        assert v.mode == "scan" and v.cursor.isVisible()
        bar.xsize.setValue(0.25)
        bar.xsize.editingFinished.emit()
        assert v.xsize == 0.25
        wait_qt(lambda: v.env is not None and v.env.window <= 260)
        bar.open_channels()
        bar.dialog.params.child("ch1").child("visible").setValue(False)
        assert not v.visible[1] and not v.curves[1].isVisible()
        frames = v.frames
        wait_qt(lambda: v.frames > frames + 2)
        img = shot(v, "oscilloscope_controls")
        assert not color_mask(img, v.channel_color(1), tol=10).any()
        assert color_mask(img, v.channel_color(0), tol=10).any()
        ticks = [name for _, name in v.plot.getPlotItem().getAxis("left")._tickLevels[0]]
        assert ticks == ["ch0", "ch2"]
        gains = v.gains.copy()
        v.scale_gains(2.0)
        np.testing.assert_allclose(v.gains, 2 * gains)
        bar.dialog.params.child("ch0").child("gain").setValue(1.5)
        assert v.gains[0] == 1.5 and not v.auto_scale_on
    finally:
        close_all(src, v)
