"""DigitalOscilloscope lanes and TimeFrequencyViewer images, from real streams."""
import numpy as np
import pytest

import acqflow
from acqflow.devices.synthetic import SyntheticSignal
from acqflow.nodes.timefreq import TimeFrequency
from acqflow.viewers import DigitalOscilloscope, TimeFrequencyViewer
from acqflow.testing import wait_qt

from .conftest import close_all, color_mask, shot, to_pixel

pytestmark = pytest.mark.timeout(60)


def test_digital_bits_are_drawn_as_lanes(qapp):
    out = acqflow.OutputStream()
    out.configure(protocol="inproc", streamtype="digitalsignal", shape=(-1, 1), sample_rate=1000.0,
                  channel_info=[{"name": "port"}])
    v = DigitalOscilloscope()
    v.configure(xsize=1.0, max_points=500)
    v.input.connect(out)
    v.initialize()
    v.start()
    try:
        idx = np.arange(1000)
        # bit 0: 5 Hz square; bit 1: always 1; bit 3: one-sample pulses; the rest 0
        data = ((idx // 100) % 2) | 2 | ((idx % 250 == 7) << 3)
        for i in range(0, 1000, 50):
            out.send(data[i:i + 50, None].astype(np.uint8))
        wait_qt(lambda: v.env is not None and v.env.next == 1000)
        img = shot(v, "digital")
        assert v.names[:2] == ["port.0", "port.1"] and len(v.names) == 8
        def pix(y):
            return to_pixel(v.viewbox, v.plot, v.widget, -0.5, y)[1]
        x0 = to_pixel(v.viewbox, v.plot, v.widget, -1.0, 0)[0]
        x1 = to_pixel(v.viewbox, v.plot, v.widget, 0.0, 0)[0]

        def rows(bit):
            m = color_mask(img, v.channel_color(bit), tol=10)[:, x0 + 2:x1 - 2]
            return m, pix(7 - bit + 0.3), pix(7 - bit - 0.3)       # mask, high row, low row

        m, hi, lo = rows(0)
        for r in (hi, lo):                      # a square: both levels, each ~half the time
            assert m[r - 1:r + 2].any(0).mean() > 0.4
        m, hi, lo = rows(1)
        assert m[hi - 1:hi + 2].any(0).mean() > 0.95 and not m[lo - 1:lo + 2].any()
        m, hi, lo = rows(3)                     # 4 pulses of one sample each reach the high level
        cols = np.flatnonzero(m[hi - 1:hi + 2].any(0))
        assert 4 <= len(cols) <= 12 and m[lo - 1:lo + 2].any(0).mean() > 0.95
        m, hi, lo = rows(2)
        assert not m[hi - 1:hi + 2].any()
    finally:
        v.close()
        out.close()


def test_time_frequency_image_is_bright_at_the_signal_frequency(qapp):
    src = SyntheticSignal()
    src.configure(channels=2, sample_rate=1000.0, chunksize=50, waveform="sine", frequencies=[20, 40])
    src.outputs["signals"].configure(protocol="inproc")
    src.initialize()
    tf = TimeFrequency()
    tf.configure(channels=[0, 1], f_start=5, f_stop=60, deltafreq=2, out_rate=100, hop=0.1)
    tf.input.connect(src.outputs["signals"])
    tf.output.configure(protocol="inproc")
    tf.initialize()
    v = TimeFrequencyViewer()
    v.configure(xsize=2.0, size=(700, 500))
    v.input.connect(tf.output)
    v.initialize()
    for n in (v, tf, src):
        n.start()
    try:
        wait_qt(lambda: v.frames >= 8, timeout=20)
        img = shot(v, "timefreq")
        assert len(v.images) == 2
        for plot, image, freq in zip(v.plots, v.images, (20, 40)):
            column = to_pixel(plot.vb, v.widget, v.widget, -0.2, 0)[0]
            bright = img[:, column, :3].astype(int).sum(-1)
            top, bottom = (to_pixel(plot.vb, v.widget, v.widget, -0.2, f)[1] for f in (60, 5))
            row = top + int(np.argmax(bright[top:bottom]))
            # the brightest row of the image is the sine's frequency (+- one 2 Hz bin)
            f_row = 60 - (row - top) / (bottom - top) * 55
            assert abs(f_row - freq) <= 3, (f_row, freq)
            # viridis: yellow there, dark purple far from it
            assert tuple(img[row, column, :3]) > (180, 180, 0)
            far = to_pixel(plot.vb, v.widget, v.widget, -0.2, freq + 15 if freq < 40 else 10)[1]
            assert img[far, column, 2] > img[far, column, 1]          # blue-ish purple
        ticks = v.plots[0].getAxis("left").labelText
        assert "ch0" in ticks
    finally:
        close_all(src, tf, v)
