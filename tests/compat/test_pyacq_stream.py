"""pyacq's own stream tests (pyacq/core/stream/tests/test_stream.py, test_ringbuffer.py,
test_sharedarray.py), run against acqflow with only their imports mapped:
``pyacq`` -> acqflow's compat layer (``install()``), and in the multiprocess test
``pyqtgraph.multiprocess.Process`` -> acqflow's ProcessSpawner (whose proxies spell
pyqtgraph's ``_returnType`` as ``_return_type``).  The test bodies are pyacq's."""
# ruff: noqa
import sys
import time

import numpy as np
import pytest

from acqflow.compat.pyacq import install

install()

from pyacq.core.stream import OutputStream, InputStream, RingBuffer, compression_methods  # noqa: E402
from pyacq.core.stream.sharedarray import SharedArray, SharedMem  # noqa: E402


class mp:
    """Import mapping for ``pyqtgraph.multiprocess``: a spawned acqflow process."""

    class Process:
        def __init__(self):
            from acqflow.rpc import ProcessSpawner
            self._spawner = ProcessSpawner()

        def _import(self, name):
            # pyacq.* in the child maps to the same compat modules
            return self._spawner.client._import(name.replace("pyacq.", "acqflow.compat.pyacq.", 1))

        def close(self):
            self._spawner.stop()


# ---- pyacq/core/stream/tests/test_stream.py -------------------------------------

protocols = ['tcp', 'inproc', 'ipc']  # 'udp' is not working
if sys.platform.startswith('win'):
    protocols.remove('ipc')


def test_stream_plaindata():
    for protocol in protocols:
        for compression in compression_methods:
            check_stream(transfermode='plaindata', protocol=protocol, compression=compression)


def test_stream_sharedmem():
    chunksize = 128
    chan_shape = (16,)
    n_shared_chunks = 10
    dtype = 'float32'
    shm_size = chunksize * n_shared_chunks
    for protocol in protocols:
        check_stream(chunksize=chunksize, chan_shape=chan_shape, buffer_size=shm_size,
                     transfermode='sharedmem', protocol=protocol,
                     dtype=dtype)


def check_stream(chunksize=1024, chan_shape=(16,), **kwds):
    chunk_shape = (chunksize,) + chan_shape
    stream_spec = dict(protocol='tcp', interface='127.0.0.1', port='*',
                       transfermode='plaindata', streamtype='analogsignal',
                       dtype='float32', shape=chunk_shape, compression='',
                       scale=None, offset=None, units='')
    stream_spec.update(kwds)
    outstream = OutputStream()
    outstream.configure(**stream_spec)

    instream = InputStream()
    instream.connect(outstream)
    time.sleep(.1)

    for i in range(5):
        if i == 1:
            # send non-aligned data
            cs = (chunk_shape[1], chunk_shape[0]) + chunk_shape[2:]
            arr = np.random.rand(*cs).transpose(1, 0).astype(stream_spec['dtype'])
        else:
            arr = np.random.rand(*chunk_shape).astype(stream_spec['dtype'])
        outstream.send(arr)

        index, arr2 = instream.recv(return_data=True)
        assert index == outstream.last_index
        assert np.all((arr - arr2) == 0.)

    outstream.close()
    instream.close()


def test_plaindata_ringbuffer():
    check_stream_ringbuffer(transfermode='plaindata', buffer_size=4096)
    check_stream_struct_dtype(transfermode='plaindata', buffer_size=4096)


def test_sharedmem_ringbuffer():
    check_stream_ringbuffer(transfermode='sharedmem', buffer_size=4096)
    check_stream_ringbuffer(transfermode='sharedmem', buffer_size=4096, axisorder=(1, 0))
    check_stream_struct_dtype(transfermode='sharedmem', buffer_size=4096)


def check_stream_ringbuffer(**kwds):
    chunk_shape = (-1, 16)
    stream_spec = dict(protocol='tcp', interface='127.0.0.1', port='*',
                       transfermode='plaindata', streamtype='analogsignal',
                       dtype='float32', shape=chunk_shape, compression='',
                       scale=None, offset=None, units='', axisorder=None,
                       double=True)
    stream_spec.update(kwds)
    outstream = OutputStream()
    outstream.configure(**stream_spec)

    instream = InputStream()
    instream.connect(outstream)
    instream.set_buffer(stream_spec['buffer_size'], axisorder=stream_spec['axisorder'],
                        double=stream_spec['double'])

    # Make sure we are re-using sharedmem buffer
    if instream.receiver.buffer is not None:
        assert instream._own_buffer is False

    time.sleep(.1)

    data = np.random.normal(size=(4096, 16)).astype('float32')
    for i in range(16):
        chunk = data[i * 256:(i + 1) * 256]
        outstream.send(chunk)
        instream.recv()
    data2 = instream[0:4096]
    assert np.all(data2 == data)
    if outstream.params['axisorder'] is not None:
        assert np.all(np.argsort(data2.strides)[::-1] == outstream.params['axisorder'])
    outstream.close()      # (pyacq's test leaves them open)
    instream.close()


def check_stream_struct_dtype(**kwds):
    dtype_struct = [
        ('datetime', 'datetime64[ms]'),
        ('message', 'S32'),
    ]

    chunk_shape = (-1,)
    stream_spec = dict(protocol='tcp', interface='127.0.0.1', port='*',
                       transfermode='plaindata', streamtype='analogsignal',
                       dtype=dtype_struct, shape=chunk_shape, compression='',
                       scale=None, offset=None, units='', axisorder=None,
                       double=True)
    stream_spec.update(kwds)
    outstream = OutputStream()
    outstream.configure(**stream_spec)

    instream = InputStream()
    instream.connect(outstream)
    instream.set_buffer(stream_spec['buffer_size'], axisorder=stream_spec['axisorder'],
                        double=stream_spec['double'])

    if instream.receiver.buffer is not None:
        assert instream._own_buffer is False

    time.sleep(.1)

    data = np.zeros(50, dtype=dtype_struct)
    for i in range(10):
        chunk = data[i * 5:(i + 1) * 5]
        outstream.send(chunk)
        instream.recv()
    data2 = instream[0:50]
    assert np.all(data2 == data)
    if outstream.params['axisorder'] is not None:
        assert np.all(np.argsort(data2.strides)[::-1] == outstream.params['axisorder'])
    outstream.close()
    instream.close()


# ---- pyacq/core/stream/tests/test_ringbuffer.py ---------------------------------

def test_ringbuffer():
    def assert_is_fill(data):
        if np.isnan(fill):
            assert np.all(np.isnan(data))
        else:
            assert np.all(data == fill)

    def assert_array_eq(a, b):
        ma = np.isnan(a)
        mb = np.isnan(b)
        assert (a.shape == b.shape)
        assert np.all(ma == mb)
        assert np.all(a[~ma] == b[~mb])

    buf1 = RingBuffer(shape=(10, 5, 7), dtype=np.ubyte, double=False)
    buf2 = RingBuffer(shape=(10, 5, 7), dtype=np.ubyte, double=True)
    buf3 = RingBuffer(shape=(10, 5, 7), dtype=np.float64, double=True)
    buf4 = RingBuffer(shape=(10, 5, 7), dtype=np.ubyte, double=True, axisorder=(1, 2, 0))
    buf5 = RingBuffer(shape=(10, 5, 7), dtype='float32', double=False, axisorder=(1, 2, 0))

    for buf, fill in [(buf1, 0), (buf2, 0), (buf3, np.nan), (buf4, 0), (buf5, np.nan)]:
        assert_is_fill(buf[-10:])
        with pytest.raises(IndexError):
            buf[-11]
        with pytest.raises(IndexError):
            buf[1]

        with pytest.raises(ValueError):
            buf.new_chunk(np.zeros((20, 5, 7), dtype=buf.dtype))
        with pytest.raises(ValueError):
            buf.new_chunk(np.zeros((10, 5, 8), dtype=buf.dtype))
        with pytest.raises(TypeError):
            buf.new_chunk(np.zeros((10, 5, 7), dtype='uint'))

        # add a chunk, test the data and boundaries have updated correctly
        d = np.ones((5, 5, 7), dtype=buf.dtype)
        buf.new_chunk(d)
        assert buf[1].shape == (5, 7)
        assert buf[:].shape == (10, 5, 7)
        assert buf[:, 2, 1:3].shape == (10, 2)
        assert np.all(buf[-5:] == 1)
        assert np.all(buf[0:] == buf[-5:])
        assert buf[-5:].shape == d.shape
        assert buf[-5:].dtype == d.dtype
        assert_is_fill(buf[-10:-5])

        # test native axis order
        order = np.argsort(buf[:].strides)[::-1]
        assert np.all(order == buf.axisorder)

        # test another chunk
        buf.new_chunk(d[:3] * 2)
        assert buf[:].shape == (10, 5, 7)
        assert np.all(buf[-3:] == 2)
        assert np.all(buf[5:] == buf[-3:])
        assert np.all(buf[-8:-3] == 1)
        assert np.all(buf[-8:-3] == buf[0:5])
        assert_is_fill(buf[-10:-8])

        # test a chunk that crosses the ring break
        buf.new_chunk(d * 3)
        assert buf[:].shape == (10, 5, 7)
        with pytest.raises(IndexError):
            buf[-11]
        with pytest.raises(IndexError):
            buf[0]
        assert np.all(buf[-10:-8] == 1)
        assert np.all(buf[-8:-5] == 2)
        assert np.all(buf[-5:] == 3)
        assert np.all(buf[3:5] == 1)
        assert np.all(buf[5:8] == 2)
        assert np.all(buf[8:] == 3)

        # test native axis order
        order = np.argsort(buf[:].strides)[::-1]
        assert np.all(order == buf.axisorder)

        # new chunk with skipped data
        buf.new_chunk(d * 4, index=buf.index() + 7)
        assert buf[:].shape == (10, 5, 7)
        assert np.all(buf[-5:] == 4)
        assert_is_fill(buf[-7:-5])
        assert np.all(buf[-10:-7] == 3)

        # check extra indices
        assert_array_eq(buf[::-1], buf[:][::-1])

        buf.new_chunk(d * 5, index=buf.index() + 15)
        assert buf[:].shape == (10, 5, 7)
        assert np.all(buf[-5:] == 5)
        assert_is_fill(buf[-10:-5])

        # check extra indices
        i = buf.first_index()
        assert_array_eq(buf[::-1], buf[:][::-1])
        assert_array_eq(buf[::-2], buf[:][::-2])
        assert_array_eq(buf[i + 5::-3], buf[:][5::-3])
        assert_array_eq(buf[:i + 7:-1], buf[:][:7:-1])
        assert_array_eq(buf[:i + 7:-1, 3, ::-2], buf[:][:7:-1, 3, ::-2])
        assert_array_eq(buf[i + 2, 3, ::-2], buf[:][2, 3, ::-2])

        # check copy/no-copy
        buf.new_chunk(np.arange(350).astype(buf.dtype).reshape(10, 5, 7), index=1005)
        a = buf[-4:]
        b = buf[-4:]
        c = buf[-8:]
        d = buf[-8:]
        assert_array_eq(a, b)
        assert_array_eq(c, d)
        a[:] = (np.random.random(size=(4, 5, 7)) * 100).astype(buf.dtype)
        assert_array_eq(a, b)
        c[:] = (np.random.random(size=(8, 5, 7)) * 100).astype(buf.dtype)
        if buf.double:
            assert_array_eq(c, d)
        else:
            assert not np.all(c == d)

        # test get_data method
        assert_array_eq(buf[:], buf.get_data(buf.first_index(), buf.index()))
        a, b = buf.get_data(buf.first_index(), buf.index(), join=False)
        assert a.shape[0] + b.shape[0] == buf.shape[0]
        if a.shape[0] > 0:
            assert_array_eq(buf[:][:a.shape[0]], a)
        if b.shape[0] > 0:
            assert_array_eq(buf[-b.shape[0]:], b)


def test_ringbuffer_shm():
    buf1 = RingBuffer(shape=(10, 5, 7), dtype=np.ubyte, double=True, shmem=True, axisorder=(0, 2, 1))
    buf2 = RingBuffer(shape=(10, 5, 7), dtype=np.ubyte, double=True, shmem=buf1.shm_id, axisorder=(0, 2, 1))
    buf1.new_chunk(np.arange(350).astype(buf1.dtype).reshape(10, 5, 7), index=1005)
    assert buf2.index() == buf1.index()
    assert np.all(buf1[:] == buf2[:])
    buf2.close()
    buf1.close()


# ---- pyacq/core/stream/tests/test_sharedarray.py --------------------------------

def test_sharedmem():
    shm1 = SharedMem(nbytes=10)
    arr1 = shm1.to_numpy(offset=2, shape=8, dtype='ubyte')
    assert arr1.flags['WRITEABLE']

    shm2 = SharedMem(nbytes=10, shm_id=shm1.shm_id)
    arr2 = shm2.to_numpy(offset=2, shape=8, dtype='ubyte')
    assert not arr2.flags['WRITEABLE']


def test_sharedarray():
    sa = SharedArray(shape=(10), dtype='int32')
    np_a = sa.to_numpy()
    np_a[:] = np.arange(10)

    sa2 = SharedArray(**sa.to_dict())
    np_a2 = sa.to_numpy()
    assert np_a is not np_a2
    assert np.all(np_a == np_a2)


def test_sharedarray_multiprocess():
    sa = SharedArray(shape=(10), dtype='int32')
    np_a = sa.to_numpy()
    np_a[:] = np.arange(10)

    # Start remote process, read data from shared array, then return to host
    # process.
    proc = mp.Process()
    sa_mod = proc._import('pyacq.core.stream.sharedarray')
    sa2 = sa_mod.SharedArray(**sa.to_dict())
    np_a2 = sa2.to_numpy(_return_type='value')
    proc.close()

    assert np.all(np_a == np_a2)


# ---- acqflow's compat layer beyond pyacq's own tests ----------------------------

def test_compat_names_and_refusals():
    import pyacq.core.stream as stream
    import acqflow
    from pyacq.core.stream import streamhelpers
    assert stream.ThreadPollInput is acqflow.ThreadPollInput
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
