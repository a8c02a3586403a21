"""Shared memory is released on close and when the owning process dies."""
import os
import signal

import numpy as np
import pytest

from acqflow import InputStream, OutputStream
from acqflow.dataflow.errors import StreamError
from acqflow.testing import wait_for

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
    from acqflow.dataflow.streams.sharedmem import ReaderSlots
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


HOLD_SLOTS = r"""
import os, sys
from acqflow.dataflow.streams.sharedmem import ReaderSlots, Segment
name, n = sys.argv[1], int(sys.argv[2])
r, w = os.pipe()
pids = []
for _ in range(n):
    pid = os.fork()
    if pid == 0:                       # a block-mode reader: attach, take a slot, hang
        try:
            ReaderSlots(Segment.attach(name)).register(0)
            os.write(w, b"r")
        except BaseException as exc:
            os.write(w, b"e")
            os.write(2, repr(exc).encode())
        os.read(0, 1)                  # until killed
        os._exit(0)
    pids.append(pid)
ready = b""
while len(ready) < n:
    ready += os.read(r, n)
print(ready.decode(), " ".join(map(str, pids)), flush=True)
for pid in pids:
    os.waitpid(pid, 0)
"""


def test_slots_of_sigkilled_readers_are_reclaimed_at_once():
    """Regression: after 64 SIGKILLed block-mode readers a new reader was refused
    while the writer was idle (their slots were freed only by a blocked writer)."""
    import subprocess
    import sys

    out = OutputStream()
    out.configure(transfermode="sharedmem", backpressure="block", dtype="float32",
                  shape=(-1, 2), buffer_size=100)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_SLOTS, out.params["shm_name"], "64"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        ready, *pids = holder.stdout.readline().split()
        assert ready == b"r" * 64
        pids = [int(p) for p in pids]
        assert len(pids) == 64
        with pytest.raises(RuntimeError, match="64 live block-mode readers"):
            InputStream().connect(out)          # all slots really are taken by live readers
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        for pid in pids:                        # killed (zombies or gone), not yet reaped
            wait_for(lambda: not _running(pid), timeout=10)
        inp = InputStream()
        inp.connect(out)                        # the writer is idle: reclaimed on demand
        out.send(np.ones((150, 2), "float32")[:50])
        assert inp.recv(timeout=5000)[0] == 50
        inp.close()
    finally:
        holder.kill()
        holder.wait()
        out.close()


def _running(pid):
    from acqflow.dataflow.streams.sharedmem import pid_alive
    return pid_alive(pid)


GROUP = r"""
import subprocess, sys, numpy as np
from acqflow import OutputStream
out = OutputStream(name=sys.argv[1])
out.configure(transfermode="sharedmem", dtype="float32", shape=(-1, 2), buffer_size=1000)
out.send(np.ones((10, 2), "float32"))
print(out.params["shm_name"], flush=True)
if sys.argv[1] == "parent":   # a second process of the group, with its own segment
    child = subprocess.Popen([sys.executable, "-c", sys.argv[2], "child", ""])
sys.stdin.read()              # until killed
"""


def test_segments_of_a_sigkilled_process_group_are_unlinked():
    """A SIGKILL to a whole process group (its processes and anything they started in it)
    still unlinks every segment they created (docs/streams.md, Shared memory)."""
    import subprocess
    import sys

    before = set(os.listdir(SHM))
    proc = subprocess.Popen([sys.executable, "-c", GROUP, "parent", GROUP],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        names = {proc.stdout.readline().strip(), proc.stdout.readline().strip()}
        assert all(n.startswith("acqflow_") and n not in before for n in names), names
        assert all(os.path.exists(os.path.join(SHM, n)) for n in names)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        wait_for(lambda: not any(os.path.exists(os.path.join(SHM, n)) for n in names),
                 timeout=15, message=f"{sorted(names)} to be unlinked from {SHM}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


NO_CLEANER = r"""
import os, sys, numpy as np
def refuse(*args, **kwargs):
    raise OSError("no posix_spawn here")
os.posix_spawn = refuse                  # a platform where the cleaner cannot start
from acqflow import OutputStream
outs = []
for k in range(2):
    out = OutputStream(name=f"o{k}")
    out.configure(transfermode="sharedmem", dtype="float32", shape=(-1, 2), buffer_size=100)
    outs.append(out)
outs[0].close()                          # unlinked; the resource tracker is told
print(outs[1].params["shm_name"], flush=True)
sys.stdin.read()
"""


def test_without_a_cleaner_the_resource_tracker_unlinks():
    """Where no cleaner can start, Python's resource tracker still removes the segments of
    a killed process (as before), and a closed one leaves no tracker warning."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", NO_CLEANER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    path = os.path.join(SHM, proc.stdout.readline().strip())
    assert os.path.exists(path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    wait_for(lambda: not os.path.exists(path), timeout=15, message=f"{path} to be unlinked")
    err = proc.stderr.read()
    assert "Traceback" not in err and "KeyError" not in err, err


def test_sharedmem_params_without_a_shape_are_refused_by_name():
    """Regression (found by mypy): a sharedmem params dict with shape None (edited by hand)
    made connect() raise TypeError ('NoneType' object is not subscriptable)."""
    out = OutputStream()
    out.configure(protocol="inproc", transfermode="sharedmem", dtype="float32", shape=(-1, 2))
    params = dict(out.params, shape=None)
    inp = InputStream()
    try:
        with pytest.raises(StreamError, match=r"sharedmem params without a shape"):
            inp.connect(params)
        assert not inp.connected
    finally:
        out.close()
