"""Every protocol x transfermode x stream type, between threads and processes."""
import threading

import numpy as np
import pytest

from acqflow import InputStream, OutputStream
from tests.dataflow.streamdata import PARAMS, chunk_sizes, make_chunk

PROTOCOLS = ["tcp", "inproc", "ipc"]
MODES = ["plaindata", "sharedmem"]
TYPES = list(PARAMS)


def receive(inp, count, sharedmem):
    got = []
    for _ in range(count):
        index, data = inp.recv(timeout=5000, return_data=True)
        got.append((index, np.array(data)))
    return got


def check(got, streamtype, sizes):
    end = 0
    for (index, data), n in zip(got, sizes):
        end += n
        assert index == end
        expected = make_chunk(streamtype, end - n, n)
        assert data.dtype == expected.dtype and data.shape == expected.shape
        assert data.tobytes() == expected.tobytes()
    assert len(got) == len(sizes)


@pytest.mark.parametrize("streamtype", TYPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_between_threads(protocol, mode, streamtype):
    out = OutputStream(name="src")
    out.configure(protocol=protocol, transfermode=mode, buffer_size=256, **PARAMS[streamtype])
    inp = InputStream(name="dst")
    inp.connect(out)
    sizes = chunk_sizes(streamtype)
    result = {}
    t = threading.Thread(target=lambda: result.update(got=receive(inp, len(sizes), mode)))
    t.start()
    end = 0
    for n in sizes:
        out.send(make_chunk(streamtype, end, n))
        end += n
    t.join(20)
    check(result["got"], streamtype, sizes)
    assert (inp.gaps, inp.dropped) == (0, 0)
    inp.close()
    out.close()


@pytest.mark.parametrize("streamtype", TYPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("protocol", ["tcp", "ipc"])
def test_between_processes(peer, protocol, mode, streamtype):
    """inproc is by definition inside one process, so processes use tcp and ipc."""
    params = peer.ask(cmd="output", params=dict(protocol=protocol, transfermode=mode,
                                                 buffer_size=256, **PARAMS[streamtype]))
    inp = InputStream()
    inp.connect(params)
    sizes = chunk_sizes(streamtype)
    peer.tell(cmd="send", streamtype=streamtype, chunks=[[n, None] for n in sizes])
    got = receive(inp, len(sizes), mode)
    assert peer.read() == {"sent": sum(sizes)}
    check(got, streamtype, sizes)
    assert (inp.gaps, inp.dropped) == (0, 0)
    inp.close()
    assert peer.ask(cmd="close") == {"closed": True}


def test_fan_out_to_several_inputs():
    out = OutputStream()
    out.configure(**PARAMS["analogsignal"])
    inputs = [InputStream() for _ in range(3)]
    for inp in inputs:
        inp.connect(out)
    assert out.n_inputs == 3
    out.send(make_chunk("analogsignal", 0, 10))
    for inp in inputs:
        index, data = inp.recv(timeout=5000)
        assert index == 10 and data.tobytes() == make_chunk("analogsignal", 0, 10).tobytes()
        inp.close()
    out.close()


def test_sender_gap_is_reported_not_dropped(peer):
    params = peer.ask(cmd="output", params=dict(**PARAMS["analogsignal"]))
    inp = InputStream()
    inp.connect(params)
    peer.tell(cmd="send", streamtype="analogsignal", chunks=[[10, None], [10, 50], [5, None]])
    indexes = [inp.recv(timeout=5000)[0] for _ in range(3)]
    assert indexes == [10, 50, 55]
    assert inp.gaps == 1 and inp.dropped == 0
    assert list(inp.gap_log) == [(10, 40, "source")]
    peer.ask(cmd="close")
    inp.close()
