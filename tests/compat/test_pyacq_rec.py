"""pyacq's recorder tests (pyacq/rec/tests), run on acqflow after ``acqflow.compat.pyacq.install()``.

Adapted as in test_pyacq_nodes.py (in-process nodes, waiting on a condition instead of a
timer); the files written are read back and checked.

pyacq's files themselves run unchanged in tests/compat/pyacq_verbatim; these are acqflow's
stronger checks of the same calls (the data drawn, filtered or written is compared).
"""
import os

import numpy as np
import pytest

from tests.compat.pyacq_util import pyacq_installed, wait  # noqa: F401

pytestmark = pytest.mark.usefixtures("pyacq_installed")


# -- pyacq/rec/tests/test_rawrecorder.py (adapted: devices in-process, not in a node group) -------
def test_RawRecorder(tmp_path):
    import json
    from pyacq.devices import NumpyDeviceBuffer
    from pyacq.rec import RawRecorder
    sample_rates = [100., 1000., 10000.]
    nb_channels = [16, 32, 1]
    dtypes = ['float32', 'int16', 'float64']
    chunksizes = [25, 250, 2000]
    devices = []
    for i in range(3):
        sample_rate, nb_channel = sample_rates[i], nb_channels[i]
        chunksize, dtype = chunksizes[i], dtypes[i]
        length = int(sample_rate * 3)
        length = length - length % chunksize
        t = np.arange(length) / sample_rate
        buffer = np.random.rand(length, nb_channel) * .3
        buffer += np.sin(2 * np.pi * 1.2 * t)[:, None] * .5
        buffer = buffer.astype(dtype)
        dev = NumpyDeviceBuffer(name='dev{}'.format(i))
        dev.configure(nb_channel=nb_channel, sample_interval=1. / sample_rate, chunksize=chunksize,
                      buffer=buffer)
        dev.output.configure(protocol='tcp', interface='127.0.0.1', transfermode='plaindata')
        dev.initialize()
        devices.append(dev)

    dirname = str(tmp_path / 'test_rec')
    rec = RawRecorder()
    rec.configure(streams=[dev.output for dev in devices], autoconnect=True, dirname=dirname)
    rec.initialize()
    rec.add_annotations(yep='abc', yop=12.5, yip=1)
    rec.start()
    for dev in devices:
        dev.start()
    # pyacq records for 2 s; we wait until each stream has 2 chunks past its first
    wait(lambda: all(inp.received_samples >= 3 * d.chunksize for inp, d in zip(rec.inputs.values(), devices)))
    for dev in devices:
        dev.stop()
        dev.close()
    rec.stop()
    rec.close()

    with open(os.path.join(dirname, 'stream_properties.json')) as f:
        props = json.load(f)
    assert props['pyacq_version'].startswith('acqflow')
    with open(os.path.join(dirname, 'annotations.json')) as f:
        assert json.load(f) == {'yep': 'abc', 'yop': 12.5, 'yip': 1}
    for i, dev in enumerate(devices):
        p = props['input{}'.format(i)]
        assert p['streamtype'] == 'analogsignal' and p['dtype'] == dtypes[i]
        assert p['shape'] == [-1, nb_channels[i]] and p['sample_rate'] == sample_rates[i]
        assert 'gaps' not in p
        raw = np.fromfile(os.path.join(dirname, 'input{}.raw'.format(i)), dtype=p['dtype'])
        raw = raw.reshape(-1, nb_channels[i])
        assert len(raw) >= 3 * chunksizes[i]
        rows = (p['start_index'] + np.arange(len(raw))) % len(dev.buffer)
        np.testing.assert_array_equal(raw, dev.buffer[rows])


def test_RawRecorder_refuses_existing_dirname(tmp_path):
    from pyacq.rec import RawRecorder
    with pytest.raises(ValueError, match="already exists"):
        RawRecorder().configure(streams=[], dirname=str(tmp_path))


def test_RawRecorder_writes_lost_samples_as_zeros_and_says_so(tmp_path):
    import json
    from acqflow.dataflow.streams.outputstream import OutputStream
    from pyacq.rec import RawRecorder
    out = OutputStream()
    out.configure(protocol='tcp', interface='127.0.0.1', dtype='int16', shape=(-1, 2), sample_rate=100.)
    rec = RawRecorder()
    rec.configure(streams=[out], dirname=str(tmp_path / 'r'))
    rec.initialize()
    rec.start()
    a = np.arange(20, dtype='int16').reshape(10, 2)
    out.send(a, index=10)
    out.send(a + 100, index=30)           # samples 10..19 never came
    wait(lambda: rec.inputs['input0'].received_samples >= 20)
    rec.stop()
    rec.close()
    out.close()
    with open(tmp_path / 'r' / 'stream_properties.json') as f:
        props = json.load(f)['input0']
    assert props['start_index'] == 0 and props['gaps'] == [[10, 20]]
    raw = np.fromfile(tmp_path / 'r' / 'input0.raw', dtype='int16').reshape(-1, 2)
    np.testing.assert_array_equal(raw, np.concatenate([a, np.zeros_like(a), a + 100]))


# -- pyacq/rec/tests/test_avirecorder.py is skipped in pyacq ("need Device"): the same calls on
# frames this test makes, read back with OpenCV
def test_AviRecorder(tmp_path):
    import cv2
    import json
    from acqflow.dataflow.streams.outputstream import OutputStream
    from pyacq.rec.avirecorder import AviRecorder
    out = OutputStream()
    out.configure(protocol='tcp', interface='127.0.0.1', streamtype='video', dtype='uint8',
                  shape=(-1, 48, 64, 3), sample_rate=10.)
    dirname = str(tmp_path / 'test_rec_avi')
    rec = AviRecorder()
    rec.configure(streams=[out], autoconnect=True, dirname=dirname, codec_name='mjpeg')
    rec.initialize()
    rec.start()
    for i in range(10):
        frame = np.zeros((1, 48, 64, 3), 'uint8')
        frame[..., i % 3] = 200               # red, green, blue, red...
        out.send(frame, index=i + 1)
    wait(lambda: rec.inputs['video0'].received_samples >= 10)
    rec.stop()
    rec.close()
    out.close()
    with open(os.path.join(dirname, 'avi_stream_properties.json')) as f:
        assert json.load(f)['video0']['start_index'] == 0
    cap = cv2.VideoCapture(os.path.join(dirname, 'video0.avi'))
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img[..., ::-1])         # BGR -> RGB
    cap.release()
    assert len(frames) == 10
    for i, img in enumerate(frames):
        assert img.reshape(-1, 3).mean(0).argmax() == i % 3


def test_AviRecorder_refuses_unavailable_codec(tmp_path):
    from pyacq.rec.avirecorder import AviRecorder
    rec = AviRecorder()
    with pytest.raises(ValueError, match="codec_name 'divx' is not one of"):
        rec.configure(streams=[], dirname=str(tmp_path), codec_name='divx')


def test_annotations_given_before_initialize_are_written(tmp_path):
    """Regression (found by mypy): pyacq's recorders take add_annotations() once configured;
    before initialize() acqflow's raised AttributeError (no writer yet)."""
    import json
    from acqflow import OutputStream
    from pyacq.rec import RawRecorder
    out = OutputStream()
    out.configure(protocol='inproc', dtype='float32', shape=(-1, 2), sample_rate=100.)
    rec = RawRecorder()
    rec.configure(streams=[out], dirname=str(tmp_path / 'rec'))
    try:
        rec.add_annotations(subject='S1', session=2)
        rec.initialize()
        rec.add_annotations(session=3)
        with open(tmp_path / 'rec' / 'annotations.json') as f:
            assert json.load(f) == {'subject': 'S1', 'session': 3}
    finally:
        rec.close()
        out.close()
