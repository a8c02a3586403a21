"""The viewers' ``params`` Parameter trees: each change takes effect on what is drawn."""
import numpy as np
import pytest

from acqflow.viewers import TimeFrequencyViewer
from acqflow.testing import wait_qt

from .conftest import close_all, color_mask, shot, to_pixel
from .test_oscilloscope import scope, source

pytestmark = pytest.mark.timeout(90)


def test_real_scale_and_ylim_put_the_trace_at_its_values(qapp):
    """A +-1 square wave on ch0 with scale_mode 'real_scale' and ylim (-2, 2): drawn at rows
    of y = +1 and y = -1, not in a stacked lane."""
    src = source(channels=2, sample_rate=1000.0, chunksize=20, waveform="square", frequencies=[2, 3])
    v = scope(src, xsize=1.0, size=(600, 400), show_panel=False)
    v.start()
    src.start()
    try:
        wait_qt(lambda: v._autoscales >= 1 and v.frames > 3, message="drawn")
        v.params["scale_mode"] = "real_scale"
        v.params["ylim_min"], v.params["ylim_max"] = -2.0, 2.0
        v.by_channel_params["ch1", "visible"] = False
        assert np.all(v.gains == 1) and np.all(v.offsets == 0)
        assert v.viewbox.viewRange()[1] == pytest.approx([-2.0, 2.0])
        wait_qt(lambda: v.frames > 8, message="redrawn")
        img = shot(v, "params_real_scale")
        ch0 = color_mask(img, v.channel_color(0), tol=10)
        (x0, top), (x1, bottom) = to_pixel(v.viewbox, v.plot, v.widget, -1.0, 1.0), \
            to_pixel(v.viewbox, v.plot, v.widget, 0.0, -1.0)
        rows = np.flatnonzero(ch0[:, x0:x1].any(1))
        assert abs(rows.min() - top) <= 3 and abs(rows.max() - bottom) <= 3
        assert not color_mask(img, v.channel_color(1), tol=10)[:, x0:x1].any()
    finally:
        close_all(src, v)


def test_decimation_methods_and_fixed_decimate(qapp):
    """Noise: min_max draws each bucket's full spread, mean a smooth line, pure_decimate every k-th
    sample of the signal itself."""
    noise = np.random.default_rng(3).standard_normal(4000).astype("float32")
    src = source(sample_rate=2000.0, chunksize=50, buffer=noise)
    v = scope(src, xsize=1.0, size=(400, 300), decimate=10)
    v.start()
    src.start()
    try:
        wait_qt(lambda: v.env is not None and v.env.next is not None and v.env.next >= 2000,
                message="a full window")
        assert v.env.k == 10 and v.params["decimate"] == 10 and not v.params["auto_decimate"]
        spread = lambda: np.nanmax(v.curves[0].getData()[1]) - np.nanmin(v.curves[0].getData()[1])  # noqa: E731
        minmax = spread()
        v.params["decimation_method"] = "mean"
        mean = spread()
        assert mean < 0.6 * minmax                  # means of 10 gaussian samples vary ~3x less
        v.params["decimation_method"] = "pure_decimate"
        x, y = v.curves[0].getData()
        np.testing.assert_allclose(np.diff(x), 10 / 2000.0)
        head = v.env.next
        samples = src.generate(head - 10 * len(x), 10 * len(x))[::10, 0]
        np.testing.assert_allclose((y - v.offsets[0]) / v.gains[0], samples, rtol=1e-4, atol=1e-4)
        v.params["auto_decimate"] = True
        wait_qt(lambda: v.env is not None and v.env.k != 10, message="auto decimation again")
    finally:
        close_all(src, v)


def test_timefrequency_params_columns_colormap_refresh(qapp):
    from acqflow.nodes import TimeFrequency
    src = source(channels=4, sample_rate=500.0, chunksize=25, waveform="sine", frequencies=[10, 20, 30, 40])
    tf = TimeFrequency()
    tf.configure(channels=[0, 1, 2, 3], f_start=5, f_stop=50, deltafreq=5)
    tf.input.connect(src.outputs["signals"])
    tf.output.configure(protocol="inproc")
    tf.initialize()
    v = TimeFrequencyViewer()
    v.configure(xsize=2.0, size=(600, 400))
    v.input.connect(tf.output)
    v.initialize()
    try:
        layout = v.widget.ci.layout
        assert layout.columnCount() == 1 and layout.rowCount() == 4
        v.params["nb_column"] = 2
        assert layout.columnCount() == 2 and layout.rowCount() == 2 and len(v.images) == 4
        v.params["colormap"] = "inferno"
        assert v.images[0].getColorMap().name == "inferno"
        v.params["refresh_interval"] = 200
        v.params["xsize"] = 1.0
        assert v.plots[0].getViewBox().viewRange()[0] == pytest.approx([-1.0, 0.0])
        v.start()
        tf.start()
        src.start()
        assert v._timer.interval() == 200 or v.refresh_rate == 5.0
        wait_qt(lambda: v.frames >= 1 and v.images[3].image is not None, message="maps drawn")
    finally:
        close_all(src, tf, v)
