"""pyacq's own viewer tests (pyacq/viewers/test), run on acqflow after ``acqflow.compat.pyacq.install()``.

Adapted as in test_pyacq_nodes.py: offscreen Qt; instead of ``app.exec_()`` until a
QTimer quits, we run the event loop until the viewer has drawn (a condition with a
timeout) and then check what it draws (pixels, curve data); nodes pyacq makes in a
manager's node group are made in-process.

pyacq's files themselves run unchanged in tests/compat/pyacq_verbatim; these are acqflow's
stronger checks of the same calls (the data drawn, filtered or written is compared).
"""
import numpy as np
import pytest
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore

from tests.compat.pyacq_util import (make_device, make_viewer, pyacq_installed,  # noqa: F401
                                     trigger_buffer, wait)

pytestmark = pytest.mark.usefixtures("pyacq_installed")


def grab(viewer):
    from acqflow.viewers import grab_array
    return grab_array(viewer.widget)


def lit(img, bg=(0, 0, 0), tol=40):
    """Pixels that are not the background."""
    return np.any(np.abs(img[..., :3].astype(int) - np.asarray(bg)) > tol, axis=-1)


# -- pyacq/viewers/test/test_qtoscilloscope.py (adapted: dev made in-process, not by ng.create_node)
def test_qoscilloscope():
    from pyacq.viewers.qoscilloscope import QOscilloscope
    nb_channel, sampling_rate, chunksize = 32, 10000., 100
    app = pg.mkQApp()
    length = int(sampling_rate * 20)
    t = np.arange(length) / sampling_rate
    buffer = np.random.rand(length, nb_channel) * .3
    buffer += np.sin(2 * np.pi * 1.2 * t)[:, None] * .5
    buffer = buffer.astype('float32')

    dev = make_device(buffer, sampling_rate, chunksize)

    viewer = make_viewer(QOscilloscope, dev.output)
    viewer.params['decimation_method'] = 'min_max'
    assert viewer.decimation_method == 'min_max'

    dev.start()
    viewer.start()
    wait(lambda: viewer.frames >= 3 and viewer._autoscales >= 1, message="frames drawn")
    app.processEvents()
    img = grab(viewer)
    assert lit(img).mean() > 0.05, "traces are drawn"
    assert viewer.params_controller is not None and viewer.params_controller.tree_count == 2

    # the params tree takes effect: min_max draws each bucket's min-to-max segment (big jumps
    # between consecutive points), mean one point per bucket (small steps)
    jumps = lambda: np.nanmean(np.abs(np.diff(viewer.curves[0].getData()[1])))  # noqa: E731
    assert viewer.env.k > 1
    wide = jumps()
    viewer.params['decimation_method'] = 'mean'
    assert viewer.decimation_method == 'mean'
    assert jumps() < 0.5 * wide
    viewer.params['decimation_method'] = 'pure_decimate'
    x, _ = viewer.curves[0].getData()
    np.testing.assert_allclose(np.diff(x), viewer.env.k / sampling_rate)   # every k-th sample
    viewer.params['xsize'] = 1.
    assert viewer.xsize == 1.
    viewer.params['scale_mode'] = 'real_scale'
    assert np.all(viewer.gains == 1) and np.all(viewer.offsets == 0)
    assert viewer.by_channel_params['ch3', 'gain'] == 1
    viewer.by_channel_params['ch3', 'visible'] = False
    assert not viewer.curves[3].isVisible()
    viewer.params['refresh_interval'] = 50
    assert viewer._timer.interval() == 50
    viewer.params['auto_decimate'] = False
    viewer.params['decimate'] = 7
    wait(lambda: viewer.env is not None and viewer.env.k == 7, message="decimate 7 in use")

    viewer.stop()
    dev.stop()
    viewer.close()
    dev.close()


def test_qoscilloscope_refuses_bad_param_value():
    from pyacq.devices import NumpyDeviceBuffer
    from pyacq.viewers.qoscilloscope import QOscilloscope
    dev = NumpyDeviceBuffer()
    dev.configure(nb_channel=2, sample_interval=0.001, chunksize=100)
    dev.output.configure(protocol='tcp', interface='127.0.0.1', transfermode='plaindata')
    dev.initialize()
    viewer = QOscilloscope()
    viewer.configure(with_user_dialog=False)
    viewer.input.connect(dev.output)
    viewer.initialize()
    assert viewer.params_controller is None
    viewer.params['ylim_max'] = -20.          # below ylim_min: refused (logged), the view keeps its range
    assert viewer._ylim is None
    viewer.close()
    dev.close()


# -- pyacq/viewers/test/test_qdigitaloscilloscope.py ---------------------------------------
def test_QDigitalOscilloscope():
    from pyacq.viewers.qdigitaloscilloscope import QDigitalOscilloscope
    sample_rate, chunksize = 1000., 20
    app = pg.mkQApp()
    length = int(sample_rate * 20)
    buffer = np.zeros((length, 3), dtype='uint8')
    nb_channel = buffer.shape[1] * 8
    for i in range(nb_channel):
        b = i // 8
        mask = 1 << i % 8
        cycle_size = int((i + 1) * sample_rate / 2)
        period = np.concatenate([np.ones(cycle_size, dtype='uint8'), np.zeros(cycle_size, dtype='uint8')]
                                * int(1 + length / cycle_size / 2))[:length]
        buffer[:, b] += period * mask

    dev = make_device(buffer, sample_rate, chunksize)

    viewer = make_viewer(QDigitalOscilloscope, dev.output)
    assert viewer.nb_channel == 24
    # pyacq's digital params: no scale_mode, per channel only 'visible'
    assert 'scale_mode' not in [p.name() for p in viewer.params.children()]
    assert [p.name() for p in viewer.by_channel_params.child('ch0').children()] == ['visible']
    dev.start()
    viewer.start()
    # bit 0 toggles every 0.5 s: wait until its lane has shown both levels
    wait(lambda: viewer.env is not None and viewer.env.next and viewer.env.next > 1200,
         message="1.2 s drawn")
    app.processEvents()
    y = viewer.curves[0].getData()[1]
    y = y[np.isfinite(y)]
    assert np.ptp(y) > 0.5, "bit 0 drawn high and low"
    assert lit(grab(viewer)).mean() > 0.01
    viewer.stop()
    dev.stop()
    viewer.close()
    dev.close()


# -- pyacq/viewers/test/test_imageviewer.py -------------------------------------------------
def test_imageviewer():
    """pyacq's FakeCamera sends frames on an analogsignal stream; here shaped (-1, h, w, 3) with
    one frame per chunk (acqflow streams have a time axis), made from acqflow's Node."""
    from acqflow.dataflow.graph.node import Node
    from pyacq.viewers.imageviewer import ImageViewer
    num_video = 3

    class FakeCamera(Node):
        _output_specs = {'video': dict(streamtype='analogsignal', shape=(-1, 60, 72, 3),
                                       sample_rate=5, dtype='uint8')}

        def _configure(self, buffer=None, sample_rate=5):
            self.sample_rate = sample_rate
            self.output.spec['sample_rate'] = sample_rate
            self.buffer = buffer

        def _initialize(self):
            self.head = 0
            self.timer = QtCore.QTimer(singleShot=False, interval=int(1000 / self.sample_rate))
            self.timer.timeout.connect(self.send_data)

        def _start(self):
            self.timer.start()

        def _stop(self):
            self.timer.stop()

        def send_data(self):
            self.head += 1
            self.output.send(self.buffer[(self.head - 1) % len(self.buffer)][None], index=self.head)

    app = pg.mkQApp()
    cameras = []
    for i in range(num_video):
        buffer = np.random.randint(0, high=100, size=(10, 60, 72, 3), dtype='uint8')
        buffer[:, :, :, i % 3] = 255
        camera = FakeCamera()
        camera.configure(buffer=buffer, sample_rate=20)
        camera.output.configure(protocol='tcp', interface='127.0.0.1', transfermode='plaindata')
        camera.initialize()
        cameras.append(camera)
    viewers = []
    for i in range(num_video):
        viewer = ImageViewer()
        viewer.configure()
        viewer.input.connect(cameras[i].output)
        viewer.initialize()
        viewer.show()
        viewers.append(viewer)
    multi = ImageViewer()
    multi.configure(num_video=num_video, nb_column=2)
    for i in range(num_video):
        multi.inputs[f'video{i}'].connect(cameras[i].output)
    multi.initialize()
    multi.show()
    for i in range(num_video):
        cameras[i].start()
        viewers[i].start()
    multi.start()
    wait(lambda: all(v.frames >= 2 for v in viewers) and multi.frames >= 2 and
         all(multi._shown[k] >= 1 for k in multi.images), message="frames shown")
    app.processEvents()
    for i, viewer in enumerate(viewers):
        img = grab(viewer)[..., :3].astype(int)
        h, w = img.shape[:2]
        centre = img[h // 2 - 5:h // 2 + 5, w // 2 - 5:w // 2 + 5].reshape(-1, 3).mean(0)
        assert centre.argmax() == i % 3 and centre[i % 3] > 200, centre
    assert len(multi.images) == num_video
    for c in cameras:
        c.stop()
    for v in viewers + [multi]:
        v.stop()
        v.close()
    for c in cameras:
        c.close()


# -- pyacq/viewers/test/test_qtriggeredoscilloscope.py --------------------------------------
def test_QTriggeredOscilloscope():
    """pyacq's test; here we wait until 3 sweeps (after-stable triggers at 1001, 2001, 3025) are
    drawn and check the curves hold the signal around them."""
    from pyacq.viewers.qoscilloscope import QOscilloscope
    from pyacq.viewers.qtriggeredoscilloscope import QTriggeredOscilloscope
    nb_channel, sample_rate, chunksize = 6, 1000., 100
    buffer = trigger_buffer(nb_channel, 20)
    app = pg.mkQApp()

    dev = make_device(buffer, sample_rate, chunksize, dtype='float32')

    viewer = make_viewer(QTriggeredOscilloscope, dev.output)
    viewer.trigger.params['threshold'] = 1.
    viewer.trigger.params['debounce_mode'] = 'after-stable'
    viewer.trigger.params['front'] = '+'
    viewer.trigger.params['debounce_time'] = 0.1
    viewer.triggeraccumulator.params['stack_size'] = 3
    viewer.triggeraccumulator.params['left_sweep'] = -.2
    viewer.triggeraccumulator.params['right_sweep'] = .5

    viewer2 = make_viewer(QOscilloscope, dev.output)

    dev.start()
    viewer.start()
    viewer2.start()
    wait(lambda: viewer.plotted_trig >= 3, timeout=30, message="3 sweeps drawn")
    app.processEvents()
    assert viewer.label_count.text().startswith('Nb events: ')
    for slot, trig in enumerate((1001, 2001, 3025)):
        x, y = viewer.list_curves[0][slot].getData()
        np.testing.assert_allclose(x[[0, -1]], [-.2, .499])
        np.testing.assert_array_equal(y, buffer[trig - 200:trig + 500, 0])
    viewer.stop()
    viewer2.stop()
    dev.stop()
    viewer.close()
    viewer2.close()
    dev.close()


# -- pyacq/viewers/test/test_qtimefreq.py: test_qtimefreq_local_worker (adapted: dev in-process) --
def test_qtimefreq_local_worker():
    """A moving 20-60 Hz sine on every channel: the map is brightest in that band."""
    from pyacq.viewers.qtimefreq import HAVE_SCIPY, QTimeFreq
    assert HAVE_SCIPY
    nb_channel, sample_rate, chunksize = 8, 1000., 50
    length = int(sample_rate * 20)
    times = np.arange(length) / sample_rate
    buffer = np.random.rand(length, nb_channel)
    f1, f2, speed = 20., 60., .05
    freqs = (np.sin(np.pi * 2 * speed * times) + 1) / 2 * (f2 - f1) + f1
    phases = np.cumsum(freqs / sample_rate) * 2 * np.pi
    ampl = np.abs(np.sin(np.pi * 2 * speed * 8 * times)) * .8
    buffer += (np.sin(phases) * ampl)[:, None]
    buffer = buffer.astype('float32')
    pg.mkQApp()

    dev = make_device(buffer, sample_rate, chunksize)

    viewer = make_viewer(QTimeFreq, dev.output)
    viewer.params['nb_column'] = 4
    viewer.params['refresh_interval'] = 1000
    assert viewer._timer.interval() == 1000 or viewer.refresh_rate == 1.
    assert viewer.plots[5].getViewBox().parentItem() is not None
    layout = viewer.widget.ci.layout
    assert layout.columnCount() == 4 and layout.rowCount() == 2

    dev.start()
    viewer.start()
    wait(lambda: viewer.frames >= 2 and viewer.images[0].image is not None
         and viewer.images[0].image.shape[0] >= 50, timeout=30, message="maps drawn")
    img = np.asarray(viewer.images[0].image)           # (time, freqs)
    power = np.nanmean(img, axis=0)
    f = viewer.freqs
    assert power[(f >= 20) & (f <= 60)].mean() > 1.5 * power[f >= 75].mean()

    viewer.params['timefreq', 'f_stop'] = 45.           # new wavelets: fewer frequencies
    wait(lambda: viewer.freqs is not None and viewer.freqs.max() < 45 and viewer.frames >= 3,
         timeout=30, message="maps with the new frequencies")
    viewer.stop()
    dev.stop()
    viewer.close()
    dev.close()


# -- pyacq/viewers/test/test_qtoscilloscopemultiplot.py (adapted: dev in-process) -------------
def test_qoscilloscopemultiplot1():
    """sharedmem, axisorder [0, 1]; channels with offsets of tens apart each fill their own band
    once auto-scaled (pyacq's controller button), and a per-channel ylim takes effect."""
    from pyacq.devices import NumpyDeviceBuffer
    from pyacq.viewers.qoscilloscopemultiplot import QOscilloscopeMultiPlot
    nb_channel, sample_rate, chunksize = 5, 1000., 100
    app = pg.mkQApp()
    length = int(sample_rate * 20)
    t = np.arange(length) / sample_rate
    buffer = np.random.rand(length, nb_channel) * .3
    buffer += np.sin(2 * np.pi * 1.2 * t)[:, None] * .5
    buffer += np.random.randn(nb_channel)[None, :] * 50      # add offset
    buffer[:, -1] = 0
    buffer = buffer.astype('float32')

    dev = NumpyDeviceBuffer()
    dev.configure(nb_channel=nb_channel, sample_interval=1. / sample_rate, chunksize=chunksize, buffer=buffer)
    dev.output.configure(protocol='tcp', interface='127.0.0.1', transfermode='sharedmem',
                         buffer_size=int(sample_rate * 62.), axisorder=[0, 1], double=True)
    dev.initialize()

    viewer = make_viewer(QOscilloscopeMultiPlot, dev.output)
    viewer.params['decimation_method'] = 'min_max'

    dev.start()
    viewer.start()
    wait(lambda: viewer.frames >= 2 and viewer.env is not None and viewer.env.next >= 1000,
         message="1 s drawn")
    viewer.auto_scale()
    app.processEvents()
    for c in range(nb_channel - 1):
        y = viewer.curves[c].getData()[1]
        y = y[np.isfinite(y)]
        centre = nb_channel - 1 - c
        assert centre - 0.5 <= y.min() and y.max() <= centre + 0.5, (c, y.min(), y.max())
        assert y.max() - y.min() > 0.5              # and fills most of it
    lo = viewer.by_channel_params['ch0', 'ylim_min']
    viewer.by_channel_params['ch0', 'ylim_max'] = lo + 100.   # a wider range: a flat trace
    y = viewer.curves[0].getData()[1]
    assert np.nanmax(y) - np.nanmin(y) < 0.1
    viewer.by_channel_params['ch2', 'visible'] = False
    assert not viewer.curves[2].isVisible()
    viewer.stop()
    dev.stop()
    viewer.close()
    dev.close()
