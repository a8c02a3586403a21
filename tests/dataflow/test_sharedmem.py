"""Shared memory is released on close and when the owning process dies."""
import os
import signal

import numpy as np
import pytest

from acqflow import InputStream, OutputStream
from tests.conftest import wait_for

SHM = "/dev/shm"
pytestmark = pytest.mark.skipif(not os.path.isdir(SHM), reason="needs /dev/shm (Linux)")


def test_close_unlinks_segment_even_with_reader_attached():
    out = OutputStream()
    out.configure(transfermode="sharedmem", dtype="float32", shape=(-1, 2), buffer_size=100)
    name = out.params["shm_name"]
    inp = InputStream()
    inp.connect(out)
    out.send(np.ones((10, 2), "float32"))
    index, _ = inp.recv(timeout=5000)
    view = inp.get_array_slice(index, 10)
    assert os.path.exists(os.path.join(SHM, name))
    out.close()
    assert not os.path.exists(os.path.join(SHM, name))
    assert view.tolist() == [[1.0, 1.0]] * 10     # the reader's mapping stays valid
    inp.close()


def test_segment_released_when_owner_is_killed(peer):
    params = peer.ask(cmd="output", params=dict(transfermode="sharedmem", dtype="float32",
                                                 shape=(-1, 2), buffer_size=1000))
    path = os.path.join(SHM, params["shm_name"])
    assert os.path.exists(path)
    inp = InputStream()
    inp.connect(params)
    inp.close()
    os.kill(peer.proc.pid, signal.SIGKILL)
    peer.proc.wait()
    wait_for(lambda: not os.path.exists(path), timeout=15, message=f"{path} to be unlinked")


def test_dead_reader_does_not_block_writer_forever(peer):
    """A blocking writer frees the cursor slot of a reader whose process died."""
    out = OutputStream()
    out.configure(transfermode="sharedmem", dtype="float32", shape=(-1, 1), buffer_size=10,
                  backpressure="block")
    from acqflow.dataflow.sharedmem import ReaderSlots
    slots = ReaderSlots(out._ring.segment)
    slot = slots.register(0)
    slots._words()[slot, 0] = peer.proc.pid        # pretend the peer holds this slot
    os.kill(peer.proc.pid, signal.SIGKILL)
    peer.proc.wait()
    for k in range(5):                              # needs the slot freed to progress
        out.send(np.zeros((5, 1), "float32"))
    assert out.index == 25
    out.close()


def test_input_dropped_without_close_exits_quietly():
    """Regression: an InputStream garbage-collected without close() made SharedMemory.__del__
    print 'BufferError: cannot close exported pointers exist' at exit."""
    import subprocess
    import sys
    code = ("import gc, numpy as np\n"
            "from acqflow import OutputStream, InputStream\n"
            "out = OutputStream(name='o')\n"
            "out.configure(transfermode='sharedmem', dtype='float32', shape=(-1, 2), buffer_size=100)\n"
            "inp = InputStream(name='i')\n"
            "inp.connect(out)\n"
            "out.send(np.ones((3, 2), 'float32'))\n"
            "assert inp.recv(timeout=2000)[0] == 3\n"
            "del inp\n"
            "gc.collect()\n"
            "out.close()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "BufferError" not in result.stderr and "Exception ignored" not in result.stderr
