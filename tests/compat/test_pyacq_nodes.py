"""pyacq's own device and dsp tests, run on acqflow after ``acqflow.compat.pyacq.install()``.

Each test follows pyacq's (pyacq/devices/tests, pyacq/dsp/tests;
the recorders' are in test_pyacq_rec.py): same imports of
``pyacq.*``, same data, same calls.  Adaptations, the same everywhere:
* pyacq runs ``app.exec_()`` until a QTimer quits it; here we wait on a condition
  (enough data through the graph) with a timeout, then check the data itself where
  pyacq only watched (filter output against scipy, trigger indexes, stacks);
* ``from pyacq import NumpyDeviceBuffer`` is written ``from pyacq.devices import ...``
  and pyacq's ``ThreadPollOutput`` is the test's ``Collector``;
* nodes pyacq makes with ``create_manager()/create_nodegroup()`` are made in-process.

pyacq's files themselves run unchanged in tests/compat/pyacq_verbatim; these are acqflow's
stronger checks of the same calls (the data drawn, filtered or written is compared).
"""
import numpy as np
import pytest
import scipy.signal

from tests.compat.pyacq_util import (Collector, make_device, make_viewer, pyacq_installed,  # noqa: F401
                                     trigger_buffer, wait)

pytestmark = pytest.mark.usefixtures("pyacq_installed")


def close_all(*nodes):
    for n in nodes:                  # pyacq's nodes and acqflow's Epocher: state reads both
        if n.state == "running":
            n.stop()
    for n in nodes:
        n.close()


# -- pyacq/devices/tests/test_npbufferdevice.py (adapted: nodes in-process, receivers are InputStreams)
def test_npbufferdevice():
    from pyacq.devices import NumpyDeviceBuffer
    dev = NumpyDeviceBuffer(name='dev')
    dev.configure(nb_channel=7, sample_interval=0.0001)
    # pyacq's test misspells transfermode: a free metadata key here, plaindata is the default
    dev.output.configure(protocol='tcp', interface='127.0.0.1', transfertmode='plaindata')
    dev.initialize()
    receivers = [Collector(dev.output) for _ in range(3)]
    dev.start()
    wait(lambda: all(r.head >= 4 * 256 for r in receivers), message="3 receivers get 4 chunks")
    dev.stop()
    for r in receivers:
        got = r.data()[:4 * 256]
        assert got.shape == (4 * 256, 7) and got.dtype == np.float32
        np.testing.assert_array_equal(got, dev.buffer[:4 * 256])
        r.close()
    assert dev.output.params['sample_rate'] == 10000.
    assert [c['name'] for c in dev.output.params['channel_info']] == [f'chan{i}' for i in range(7)]
    dev.close()


def test_npbufferdevice_refuses_bad_buffer():
    from pyacq.devices import NumpyDeviceBuffer
    dev = NumpyDeviceBuffer()
    with pytest.raises(ValueError, match="nb_channel=3"):
        dev.configure(nb_channel=3, buffer=np.zeros((256, 2), 'float32'))
    with pytest.raises(ValueError, match="multiple of chunksize=256"):
        dev.configure(nb_channel=2, buffer=np.zeros((300, 2), 'float32'))


def test_npbufferdevice_digital():
    """A uint8 buffer as pyacq's digital oscilloscope test streams it, and as a digitalsignal."""
    from pyacq.devices import NumpyDeviceBuffer
    buffer = (np.arange(200 * 3) % 256).astype('uint8').reshape(200, 3)
    for streamtype in ('analogsignal', 'digitalsignal'):
        dev = NumpyDeviceBuffer()
        dev.configure(nb_channel=3, sample_interval=0.001, chunksize=20, buffer=buffer)
        dev.output.configure(protocol='tcp', interface='127.0.0.1', transfermode='plaindata',
                             streamtype=streamtype)
        dev.initialize()
        assert dev.output.params['streamtype'] == streamtype
        r = Collector(dev.output)
        dev.start()
        wait(lambda: r.head >= 100)
        np.testing.assert_array_equal(r.data()[:100], buffer[:100])
        r.close()
        close_all(dev)


# -- pyacq/dsp/tests/test_sosfilter.py and test_overlapfiltfilt.py (shared data) -------------
nb_channel_f = 10
sample_rate_f = 1000.
chunksize_f = 10
nloop_f = 200
_length = int(chunksize_f * nloop_f)
_times = np.arange(_length) / sample_rate_f
_rng = np.random.default_rng(1)
buffer_f = _rng.random((_length, nb_channel_f)) * .3
_freqs = (np.sin(np.pi * 2 * .05 * _times) + 1) / 2 * (60. - 20.) + 20.
_phases = np.cumsum(_freqs / sample_rate_f) * 2 * np.pi
buffer_f += (np.sin(_phases) * np.abs(np.sin(np.pi * 2 * .05 * 8 * _times)) * .8)[:, None]
buffer_f = buffer_f.astype('float32')
coefficients_f = scipy.signal.iirfilter(7, [40. / sample_rate_f * 2, 60. / sample_rate_f * 2],
                                        btype='bandpass', ftype='butter', output='sos')


def stream_spec(nb_channel):
    return dict(protocol='tcp', interface='127.0.0.1', transfermode='sharedmem',
                double=True, dtype='float32', buffer_size=2048 * 50, shape=(-1, nb_channel))


def with_viewers(filter, dev):
    """pyacq's filter tests show the filtered and the raw signal in two QOscilloscopes."""
    from pyacq.viewers.qoscilloscope import QOscilloscope
    viewers = [make_viewer(QOscilloscope, output) for output in (filter.output, dev.output)]
    for viewer in viewers[::-1]:
        viewer.start()
    return viewers


def test_sosfilter():
    """pyacq's do_filtertest('scipy'); checks the filtered stream equals scipy's offline sosfilt."""
    from pyacq.dsp.sosfilter import HAVE_PYOPENCL, SosFilter
    assert not HAVE_PYOPENCL
    spec = stream_spec(nb_channel_f)
    dev = make_device(buffer_f, sample_rate_f, chunksize_f, **spec)
    filter = SosFilter()
    filter.configure(coefficients=coefficients_f, engine='scipy', chunksize=chunksize_f)
    filter.input.connect(dev.output)
    filter.output.configure(**spec)
    filter.initialize()
    viewers = with_viewers(filter, dev)
    out = Collector(filter.output)
    filter.start()
    dev.start()
    wait(lambda: out.head >= 1000 and all(v.frames >= 2 for v in viewers), message="1 s filtered, drawn")
    close_all(dev, filter, *viewers)
    got = out.data()[:1000]
    out.close()
    offline = scipy.signal.sosfilt(coefficients_f, buffer_f[:1000].astype('float64'), axis=0)
    np.testing.assert_allclose(got, offline, atol=1e-4)
    assert filter.inputs['signals'] is filter.input and filter.outputs['signals'] is filter.output


def test_sosfilter_engines():
    from pyacq.dsp.sosfilter import SosFilter
    f = SosFilter()
    with pytest.raises(ValueError, match="engine 'opencl' is not available"):
        f.configure(coefficients=coefficients_f, engine='opencl')
    f.configure(coefficients=coefficients_f, engine='numpy')


def test_overlapfiltfilt():
    """pyacq's test_overlapfiltfilt do_filtertest('scipy') (4 channels, chunksize 100, overlapsize 250);
    checks the output equals scipy's offline sosfiltfilt away from the stream's start."""
    from pyacq.dsp.overlapfiltfilt import OverlapFiltfilt
    nb_channel, chunksize, overlapsize = 4, 100, 250
    buffer = buffer_f[:, :nb_channel].copy()
    spec = stream_spec(nb_channel)
    dev = make_device(buffer, sample_rate_f, chunksize, **spec)
    filter = OverlapFiltfilt()
    filter.configure(coefficients=coefficients_f, engine='scipy', chunksize=chunksize,
                     overlapsize=overlapsize)
    filter.input.connect(dev.output)
    filter.output.configure(**spec)
    filter.initialize()
    assert filter.delay == overlapsize
    viewers = with_viewers(filter, dev)
    out = Collector(filter.output)
    filter.start()
    dev.start()
    wait(lambda: out.head >= 1200 and all(v.frames >= 2 for v in viewers),
         message="filtered output up to 1.2 s, drawn")
    close_all(dev, filter, *viewers)
    got = out.data()[:1200]
    out.close()
    offline = scipy.signal.sosfiltfilt(coefficients_f, buffer[:2000].astype('float64'), axis=0)[:1200]
    # the backward pass starts overlapsize samples ahead: the error is that tail's decay
    # (a 7th-order 40-60 Hz band-pass rings longer than 250 ms), as in pyacq
    err, peak = np.abs(got - offline), np.max(np.abs(offline))
    assert err.max() < 0.1 * peak and err.mean() < 0.01 * peak


# -- pyacq/dsp/tests/test_trigger.py --------------------------------------------------------
nb_channel_t = 6
sample_rate_t = 1000.
chunksize_t = 100
buffer_t = trigger_buffer(nb_channel_t, 5)


def setup_nodes(buffer=buffer_t):
    from pyacq.dsp.trigger import AnalogTrigger
    dev = make_device(buffer, sample_rate_t, chunksize_t, dtype='float32')
    trigger = AnalogTrigger()
    trigger.configure()
    trigger.input.connect(dev.output)
    trigger.output.configure(protocol='tcp', interface='127.0.0.1', transfermode='plaindata')
    trigger.initialize()
    trigger.params['threshold'] = 1.
    trigger.params['front'] = '+'
    return dev, trigger


def check_trigger(debounce_time, debounce_mode, targeted_trigs, detected_triggers):
    dev, trigger = setup_nodes()
    trigger.params['debounce_time'] = debounce_time
    trigger.params['debounce_mode'] = debounce_mode
    poller = Collector(trigger.output)
    trigger.start()
    dev.start()
    # pyacq stops after 5 s; the buffer has no crossing between 4.4 s and 20 s
    wait(lambda: len(poller.data()) >= len(targeted_trigs) and dev.output.last_index > 4600
         if hasattr(dev.output, 'last_index') else len(poller.data()) >= len(targeted_trigs))
    close_all(dev, trigger)
    detected_triggers.extend(poller.data().tolist())
    poller.close()
    assert poller.input.params['dtype'] in ('int64', '<i8')
    assert np.array_equal(detected_triggers, targeted_trigs), \
        '{} should be {}'.format(detected_triggers, targeted_trigs)


def test_AnalogTrigger_nodebounce():
    check_trigger(0.1, 'no-debounce', [1001, 2001, 3001, 3015, 3025, 4001], [])


def test_AnalogTrigger_after_stable():
    check_trigger(0.1, 'after-stable', [1001, 2001, 3025, 4001], [])


def test_AnalogTrigger_before_stable():
    check_trigger(0.1, 'before-stable', [1001, 2001, 3001, 4001], [])


def test_trigger_params_refuse_bad_channel():
    dev, trigger = setup_nodes()
    trigger.params['channel'] = 99          # refused (logged), the tree keeps the value in use
    assert trigger.params['channel'] == 0 and trigger.channel == 0
    trigger.params['channel'] = 2
    assert trigger.channel == 2
    close_all(dev, trigger)


def test_DigitalTrigger():
    """DigitalTrigger on bit 10 (byte 1, bit 2) of a uint8 stream: 0 -> 1 edges as int64 indexes."""
    from pyacq.devices import NumpyDeviceBuffer
    from pyacq.dsp.trigger import DigitalTrigger
    buffer = np.zeros((2000, 2), 'uint8')
    buffer[500:700, 1] = 1 << 2
    buffer[1200:1300, 1] = 1 << 2
    dev = NumpyDeviceBuffer()
    dev.configure(nb_channel=2, sample_interval=.001, chunksize=100, buffer=buffer)
    dev.output.configure(protocol='tcp', interface='127.0.0.1', transfermode='plaindata')
    dev.initialize()
    trigger = DigitalTrigger()
    trigger.configure()
    trigger.input.connect(dev.output)
    trigger.initialize()
    trigger.params['channel'] = 10
    trigger.params['debounce_mode'] = 'no-debounce'
    poller = Collector(trigger.output)
    trigger.start()
    dev.start()
    wait(lambda: len(poller.data()) >= 2)
    close_all(dev, trigger)
    assert poller.data().tolist() == [500, 1200]
    poller.close()


# -- pyacq/dsp/tests/test_triggeraccumulator.py ----------------------------------------------
def test_TriggerAccumulator():
    """pyacq's test; pyacq counts 6 sweeps after 5 s, here we wait for 6 and check the stack's data."""
    from pyacq.dsp.triggeraccumulator import TriggerAccumulator
    nb_channel = 2
    buffer = trigger_buffer(nb_channel, 20)
    dev, trigger = setup_nodes(buffer)             # pyacq's lines, the same as test_trigger's
    trigger.params['debounce_mode'] = 'no-debounce'
    trigger.params['front'] = '+'
    trigger.params['debounce_time'] = 0.1

    triggeraccumulator = TriggerAccumulator()
    triggeraccumulator.configure(max_stack_size=5)
    triggeraccumulator.inputs['signals'].connect(dev.output)
    triggeraccumulator.inputs['events'].connect(trigger.output)
    triggeraccumulator.initialize()
    triggeraccumulator.params['stack_size'] = 3
    triggeraccumulator.params['left_sweep'] = -.2
    triggeraccumulator.params['right_sweep'] = .5
    totals = []
    triggeraccumulator.new_chunk.connect(totals.append)

    dev.start()
    trigger.start()
    triggeraccumulator.start()
    wait(lambda: triggeraccumulator.total_trig >= 6, message="6 sweeps")
    with triggeraccumulator._lock:
        stack = triggeraccumulator.stack.copy()
    # a new stack size while running: an empty stack of that size, filled again
    triggeraccumulator.params['stack_size'] = 2
    assert triggeraccumulator.stack.shape[0] == 2
    wait(lambda: triggeraccumulator.total_trig >= 1, message="a sweep in the new stack")
    assert triggeraccumulator.state == 'running'
    close_all(dev, trigger, triggeraccumulator)
    assert totals[:6] == [1, 2, 3, 4, 5, 6]
    # sweeps 4, 5, 6 (triggers at 3015, 3025, 4001) are in the ring of 3, at slots 0, 1, 2
    assert stack.shape == (3, nb_channel, 700)
    for slot, trig in zip((0, 1, 2), (3015, 3025, 4001)):
        np.testing.assert_array_equal(stack[slot], buffer[trig - 200:trig + 500].T)
    np.testing.assert_allclose(triggeraccumulator.t_vect[[0, -1]], [-.2, .499])


def test_devices_dsp_rec_import_without_qt_and_list_their_node_types():
    """pyacq.devices/dsp/rec import without Qt or OpenCV (imported when used); NODE_TYPES lists them."""
    from acqflow.testing import run_python
    code = ("import sys, acqflow.compat.pyacq as c; c.install(); import pyacq.devices, pyacq.dsp, pyacq.rec; "
            "assert not {'pyqtgraph', 'PyQt5', 'cv2'} & set(sys.modules), sys.modules.keys(); "
            "print(sorted(pyacq.dsp.NODE_TYPES))")
    assert "TriggerAccumulator" in run_python(code).stdout


def test_pyacq_trigger_feeds_acqflow_epocher():
    """acqflow's Epocher takes pyacq's int64 trigger events: epochs cut at the crossings."""
    from acqflow.nodes import Epocher
    dev, trigger = setup_nodes()
    trigger.params['debounce_mode'] = 'before-stable'
    trigger.params['debounce_time'] = 0.1
    ep = Epocher()
    ep.configure(pre=0.05, post=0.1)
    ep.inputs['signal'].connect(dev.output)
    ep.inputs['events'].connect(trigger.output)
    ep.initialize()
    epochs = Collector(ep.output)
    ep.start()
    trigger.start()
    dev.start()
    wait(lambda: len(epochs.data()) >= 4, message="4 epochs")
    close_all(dev, trigger, ep)
    got = epochs.data()[:4]
    epochs.close()
    assert got['index'].tolist() == [1001, 2001, 3001, 4001] and set(got['label']) == {b''}
    for e in got:
        np.testing.assert_array_equal(e['epoch'], buffer_t[e['index'] - 50:e['index'] + 100])


def test_compare_online_offline_engines():
    """pyacq's compare_online_offline_engines() for both filters (the 'scipy' engine), with the
    assertions pyacq leaves commented out and without its matplotlib figures."""
    from pyacq.dsp.overlapfiltfilt import sosfiltfilt_engines
    from pyacq.dsp.sosfilter import sosfilter_engines
    coefficients = scipy.signal.iirfilter(7, [20. / sample_rate_f * 2, 60. / sample_rate_f * 2],
                                          btype='bandpass', ftype='butter', output='sos')
    offline = scipy.signal.sosfilt(coefficients.astype("float32"), buffer_f, axis=0, zi=None)
    offline = offline.astype("float32")
    engine = sosfilter_engines['scipy'](coefficients, nb_channel_f, 'float32', chunksize_f)
    online = np.zeros_like(offline)
    for i in range(nloop_f):
        chunk = buffer_f[i * chunksize_f:(i + 1) * chunksize_f, :]
        online[i * chunksize_f:(i + 1) * chunksize_f, :] = engine.compute_one_chunk(None, chunk)
    residual = np.abs((online.astype('float64') - offline) / np.mean(np.abs(offline)))
    assert np.max(residual) < 1e-4, 'online differt from offline'

    chunksize, overlapsize = 100, 250
    offline = scipy.signal.sosfilt(coefficients, buffer_f, axis=0)
    offline = scipy.signal.sosfilt(coefficients, offline[::-1, :], axis=0)[::-1, :]
    engine = sosfiltfilt_engines['scipy'](coefficients, nb_channel_f, 'float32', chunksize, overlapsize)
    online = np.full_like(offline, np.nan)
    for i in range(len(buffer_f) // chunksize):
        pos = (i + 1) * chunksize
        pos, chunk_filtered = engine.compute_one_chunk(pos, buffer_f[pos - chunksize:pos, :])
        if pos is not None:
            online[pos - chunk_filtered.shape[0]:pos, :] = chunk_filtered
    # away from both ends (acqflow starts and ends like sosfiltfilt, pyacq with zeros)
    inner = slice(500, len(buffer_f) - 2 * overlapsize - chunksize)
    assert not np.isnan(online[inner]).any()
    residual = np.abs(online[inner] - offline[inner]) / np.mean(np.abs(offline[inner]))
    assert np.max(residual) < 0.05
