"""'drop' counts every lost sample exactly; 'block' loses none with a slow reader."""
import threading
import time

import numpy as np
import pytest

from acqflow import InputStream, OutputStream

CHUNK = 50


def chunk(k):
    return np.arange(k * CHUNK, (k + 1) * CHUNK, dtype="float64")[:, None]


def drain(inp, return_data=True):
    got = []
    while inp.poll(300):
        got.append(inp.recv(timeout=1000, return_data=return_data))
    return got


@pytest.mark.parametrize("protocol", ["tcp", "inproc"])
def test_drop_mode_counts_exact_losses(protocol):
    out = OutputStream()
    out.configure(protocol=protocol, dtype="float64", shape=(-1, 1), hwm=2)
    inp = InputStream()
    inp.connect(out)
    total = 3000
    for k in range(total):               # nobody reads meanwhile: queues overflow
        out.send(chunk(k))
    got = drain(inp)
    out.send(chunk(total))                # queues are empty now: this one arrives
    got.append(inp.recv(timeout=5000))
    received = sum(len(d) for _, d in got)
    assert received + inp.dropped == (total + 1) * CHUNK
    assert inp.dropped > 0 and inp.gaps > 0
    for index, data in got:               # what arrives is exact, never shifted
        assert data[:, 0].tolist() == list(range(index - CHUNK, index))
    lost = sum(b - a for a, b, cause in inp.gap_log)
    assert lost == inp.dropped and {c for _, _, c in inp.gap_log} == {"dropped"}
    inp.close()
    out.close()


def slow_reader(inp, n_chunks, result, return_data):
    got = []
    for k in range(n_chunks):
        if k < 20:
            time.sleep(0.002)             # a deliberately slow reader, not synchronisation
        index, data = inp.recv(timeout=10000, return_data=return_data)
        if data is None:
            data = inp.get_array_slice(index, CHUNK).copy()
        got.append((index, data[:, 0].tolist()))
    result["got"] = got


@pytest.mark.parametrize("mode", ["plaindata", "sharedmem"])
@pytest.mark.parametrize("protocol", ["tcp", "ipc"])
def test_block_mode_loses_nothing(protocol, mode):
    out = OutputStream()
    out.configure(protocol=protocol, transfermode=mode, dtype="float64", shape=(-1, 1),
                  backpressure="block", hwm=2, buffer_size=3 * CHUNK)
    inp = InputStream()
    inp.connect(out)
    n = 400
    result = {}
    reader = threading.Thread(target=slow_reader, args=(inp, n, result, None))
    reader.start()
    for k in range(n):
        out.send(chunk(k))
    reader.join(60)
    assert not reader.is_alive()
    assert (inp.dropped, inp.gaps) == (0, 0)
    assert [i for i, _ in result["got"]] == [(k + 1) * CHUNK for k in range(n)]
    assert all(v == list(range(i - CHUNK, i)) for i, v in result["got"])
    inp.close()
    out.close()


def test_sharedmem_overrun_is_counted_never_stale():
    out = OutputStream()
    out.configure(transfermode="sharedmem", dtype="float64", shape=(-1, 1), buffer_size=2 * CHUNK)
    inp = InputStream()
    inp.connect(out)
    for k in range(10):                   # the ring holds 2 chunks: 8 get overwritten
        out.send(chunk(k))
    got = drain(inp)
    assert [i for i, _ in got] == [9 * CHUNK, 10 * CHUNK]
    for index, data in got:
        assert data[:, 0].tolist() == list(range(index - CHUNK, index))
    assert inp.dropped == 8 * CHUNK and list(inp.gap_log) == [(0, 8 * CHUNK, "overrun")]
    inp.close()
    out.close()


@pytest.mark.parametrize("backpressure", ["drop", "block"])
def test_end_of_stream_reaches_a_full_input(backpressure):
    """close() waits for room: the last message is never the one dropped."""
    out = OutputStream()
    out.configure(dtype="float64", shape=(-1, 1), hwm=2, backpressure=backpressure)
    inp = InputStream()
    inp.connect(out)
    sent = []
    writer = threading.Thread(target=lambda: [out.send(chunk(k)) or sent.append(k) for k in range(50)])
    writer.start()
    if backpressure == "drop":
        writer.join()
    closer = threading.Thread(target=lambda: (writer.join(), out.close()))
    closer.start()
    from acqflow import StreamClosed
    with pytest.raises(StreamClosed):
        while True:
            inp.recv(timeout=5000)
    closer.join(10)
    assert len(sent) == 50
    inp.close()
