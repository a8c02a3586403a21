"""acqflow's compat stream layer beyond pyacq's own stream tests (those run unchanged in
tests/compat/pyacq_verbatim/core/stream/tests)."""
# ruff: noqa
import sys
import time

import numpy as np
import pytest

from acqflow.compat.pyacq import install

install()

from pyacq.core.stream import OutputStream, InputStream, RingBuffer, compression_methods  # noqa: E402
from pyacq.core.stream.sharedarray import SharedArray, SharedMem  # noqa: E402


# ---- acqflow's compat layer beyond pyacq's own tests ----------------------------

def test_compat_names_and_refusals():
    import pyacq.core.stream as stream
    import acqflow
    from pyacq.core.stream import streamhelpers
    from pyacq.core import tools
    # pyacq's (Qt-loop delivery, wait in ms) on acqflow's
    assert stream.ThreadPollInput is tools.ThreadPollInput
    assert issubclass(stream.ThreadPollInput, acqflow.ThreadPollInput)
    assert stream.StreamConverter is acqflow.StreamConverter
    assert stream.ChannelSplitter is acqflow.ChannelSplitter
    assert compression_methods == ['']
    with pytest.raises(ValueError, match="compression='blosc-lz4' is not supported"):
        OutputStream().configure(compression='blosc-lz4')
    with pytest.raises(NotImplementedError, match="cannot register transfer mode 'cuda'"):
        streamhelpers.register_transfermode('cuda', None, None)
    assert set(streamhelpers.all_transfermodes) == {'plaindata', 'sharedmem'}


def test_compat_output_takes_pyacq_shapes_and_types():
    out = OutputStream()
    out.configure(shape=(128, 4), buffer_size=0, dtype='float32')      # pyacq's chunk shape
    assert out.params['shape'] == (-1, 4) and out.params['buffer_size'] is None
    out.close()
    out = OutputStream()
    out.configure(streamtype='analogsignal', dtype=[('t', 'f8'), ('v', 'i4')], shape=(-1,))
    assert out.params['streamtype'] == 'event'
    out.close()


def test_compat_buffer_reads_fill_before_the_first_sample():
    out = OutputStream()
    out.configure(dtype='float32', shape=(-1, 2))
    inp = InputStream()
    inp.connect(out)
    inp.set_buffer(10)
    assert inp._own_buffer is True
    out.send(np.ones((4, 2), 'float32'))
    assert inp.recv(timeout=5000)[0] == 4
    window = inp[-10:]
    assert np.isnan(window[:6]).all() and (window[6:] == 1).all()
    inp.close()
    out.close()


def test_compat_set_buffer_on_a_stream_without_a_shape_says_so():
    """Regression (found by mypy): pyacq's InputStream.set_buffer() on a connected stream
    with no fixed shape raised TypeError ('NoneType' object is not subscriptable)."""
    from acqflow.dataflow.errors import StreamError
    from acqflow.dataflow.streams.outputstream import OutputStream as PlainOutput
    out = PlainOutput()
    out.configure(dtype='float32', shape=None, protocol='inproc')
    inp = InputStream()
    inp.connect(out)
    with pytest.raises(StreamError, match="needs a stream with a fixed shape"):
        inp.set_buffer(10)
    inp.close()
    out.close()


def test_input_socket_polls_readable_on_data_only():
    """pyacq code polls ``input.socket`` before ``recv()``: 0 while only heartbeats came."""
    out = OutputStream()
    out.configure(protocol="tcp", dtype="float32", shape=(-1, 2), sample_rate=100.0)
    inp = InputStream()
    inp.connect(out)
    assert inp.socket.poll(200) == 0           # idle: heartbeats only (every 30 ms)
    out.send(np.ones((3, 2), "float32"))
    assert inp.socket.poll(5000) == 1
    index, data = inp.recv()
    assert index == 3 and data.shape == (3, 2)
    inp.close()
    out.close()
