"""The same-host wake-up of sharedmem streams (acqflow/dataflow/wakeup.py): records in the
segment and a FIFO per reader, with the stream contract kept (loss accounting, block and
drop, readers and writers dying, many readers, poll, ThreadPollInput)."""
import fcntl
import json
import math
import os
import signal
import subprocess
import sys
import termios
import threading
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from acqflow import InputStream, OutputStream, StreamClosed
from acqflow.dataflow.inputcheck import check_spin
from acqflow.dataflow.threadpoll import ThreadPollInput
from acqflow.dataflow.wakeup import RECORDS
from acqflow.testing import wait_for

pytestmark = pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="needs /dev/shm (Linux)")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def output(backpressure="block", buffer_size=4096):
    out = OutputStream(name="w")
    out.configure(transfermode="sharedmem", dtype="float32", shape=(-1, 2), buffer_size=buffer_size,
                  backpressure=backpressure)
    return out


def chunk(k, n=4):
    return np.full((n, 2), k, "float32")


def child(code: str, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)


READER = r"""
import json, sys
from acqflow import InputStream, StreamClosed
inp = InputStream()
inp.connect(json.loads(sys.argv[1]))
print("woken" if inp._wake is not None else "zmq", flush=True)
total = 0
try:
    while True:
        index, data = inp.recv(timeout=30000, return_data=True)
        assert (data == data[0, 0]).all()
        total += float(data[:, 0].sum())
except StreamClosed:
    pass
print(json.dumps([inp.received_chunks, inp.received_samples, inp.dropped, total]), flush=True)
"""

WRITER = r"""
import json, sys, numpy as np
from acqflow import OutputStream
out = OutputStream()
out.configure(transfermode="sharedmem", dtype="float32", shape=(-1, 2), buffer_size=4096)
print(json.dumps(out.params), flush=True)
for k in range(int(sys.stdin.readline())):
    out.send(np.full((4, 2), k, "float32"))
print("sent", flush=True)
sys.stdin.readline()                    # until killed
"""


def test_sharedmem_input_is_woken_without_zeromq_data_messages():
    out = output()
    inp = InputStream()
    inp.connect(out)
    path = inp._wake.path
    try:
        assert not out._publisher.zmq_readers      # no data message goes through ZeroMQ
        for k in range(10):
            out.send(chunk(k))
        for k in range(10):
            index, data = inp.recv(timeout=5000, return_data=True)
            assert index == 4 * (k + 1) and (data == k).all()
        assert inp.dropped == 0 and inp.gaps == 0
    finally:
        inp.close()
        out.close()
    assert not os.path.exists(path)


def test_woken_and_zeromq_inputs_side_by_side(monkeypatch):
    out = output()
    fast = InputStream()
    fast.connect(out)
    monkeypatch.setenv("ACQFLOW_SHM_WAKEUP", "0")
    slow = InputStream()
    slow.connect(out)
    try:
        assert fast._wake is not None and slow._wake is None
        out.send(chunk(1))
        for inp in (fast, slow):
            assert inp.recv(timeout=5000)[0] == 4
        out.advance_to(10)                         # a source gap, seen by both
        out.send(chunk(2))
        for inp in (fast, slow):
            assert inp.recv(timeout=5000)[0] == 14
            assert inp.gap_log[-1] == (4, 10, "source") and inp.dropped == 0
    finally:
        fast.close()
        slow.close()
        out.close()


def test_poll_timeouts_and_end_of_stream():
    out = output()
    inp = InputStream()
    inp.connect(out)
    path = inp._wake.path
    assert os.path.exists(path)
    assert not inp.poll(50)                         # nothing yet: False after the timeout
    with pytest.raises(TimeoutError):
        inp.recv(timeout=20)
    got = []
    waiter = threading.Thread(target=lambda: got.append(inp.poll(None)))
    waiter.start()
    out.send(chunk(3))
    waiter.join(10)
    assert got == [True]
    assert inp.poll(0) and inp.recv(timeout=0)[0] == 4
    out.send(chunk(4))
    out.close()
    assert inp.recv(timeout=5000)[0] == 8           # data before the end
    with pytest.raises(StreamClosed):
        inp.recv(timeout=5000)
    inp.close()
    assert not os.path.exists(path)                 # the FIFO goes with the input


def test_thread_poll_input_receives_through_the_wakeup():
    out = output()
    inp = InputStream()
    inp.connect(out)
    got = []
    thread = ThreadPollInput(inp, timeout=100, return_data=True)
    thread.new_data.connect(lambda index, data: got.append((index, float(data[0, 0]))))
    thread.start()
    try:
        for k in range(20):
            out.send(chunk(k))
        wait_for(lambda: len(got) == 20, timeout=20)
        assert got == [(4 * (k + 1), float(k)) for k in range(20)]
        out.close()
        wait_for(lambda: thread.closed, timeout=20)
    finally:
        thread.stop()
        thread.join(10)
        inp.close()
        out.close()


def test_drop_mode_counts_what_a_lagging_reader_lost():
    out = output("drop", buffer_size=1 << 16)
    inp = InputStream()
    inp.connect(out)
    sent = RECORDS + 500                      # more records than the segment keeps
    for k in range(sent):
        out.send(chunk(k))
    out.close()
    try:
        while True:
            inp.recv(timeout=5000, return_data=True)
    except StreamClosed:
        pass
    assert inp.received_samples + inp.dropped == 4 * sent
    assert inp.dropped > 0 and inp.gaps >= 1 and inp.gap_log[0][2] == "dropped"
    assert inp.received_chunks <= RECORDS
    inp.close()


def test_block_mode_never_laps_a_slow_reader():
    """More chunks than records and than the ring holds: the writer waits for the reader."""
    out = output("block", buffer_size=64)
    inp = InputStream()
    inp.connect(out)
    n = RECORDS + 300
    got = []

    def read():
        for _ in range(n):
            index, data = inp.recv(timeout=20000, return_data=True)
            got.append(float(data[0, 0]))

    reader = threading.Thread(target=read)
    reader.start()
    for k in range(n):
        out.send(chunk(k, 1))
    reader.join(60)
    assert got == [float(k) for k in range(n)] and inp.dropped == 0
    inp.close()
    out.close()


def test_a_reader_whose_fifo_filled_up_still_wakes_for_the_next_chunk():
    """Wake-up bytes are read only before waiting (off the latency path): a FIFO that
    filled up (the writer then skips its byte) must still wake the reader afterwards."""
    out = output("block", buffer_size=1 << 16)
    inp = InputStream()
    inp.connect(out)
    k = 0
    while k < 137 * (RECORDS // 2):              # more chunks than a FIFO holds bytes (64 KiB)
        out.send(chunk(k, 1))
        k += 1
        if k % (RECORDS // 2) == 0:
            for _ in range(RECORDS // 2):
                inp.recv(timeout=5000)
    buf = bytearray(4)
    fcntl.ioctl(inp._wake.fd, termios.FIONREAD, buf)
    assert int.from_bytes(buf, "little") >= 60000     # never drained while records kept coming
    got = []
    waiter = threading.Thread(target=lambda: got.append(inp.recv(timeout=20000, return_data=True)))
    waiter.start()
    out.send(chunk(7, 1))
    waiter.join(30)
    assert got and got[0][0] == k + 1 and float(got[0][1][0, 0]) == 7.0
    assert inp.dropped == 0 and inp.received_samples == k + 1
    inp.close()
    out.close()


def test_a_spinning_reader_gets_every_chunk_and_still_times_out_and_ends():
    with pytest.raises(ValueError, match="spin must be >= 0 ms and finite, got -1"):
        InputStream(spin=-1)
    out = output()
    inp = InputStream(spin=2.0)          # busy-waits 2 ms before sleeping
    inp.connect(out)
    with pytest.raises(TimeoutError):
        inp.recv(timeout=20)             # spinning counts against the timeout
    got = []

    def read():
        try:
            while True:
                got.append(float(inp.recv(timeout=20000, return_data=True)[1][0, 0]))
        except StreamClosed:
            pass

    reader = threading.Thread(target=read)
    reader.start()
    for k in range(200):
        out.send(chunk(k))
    out.close()
    reader.join(60)
    assert got == [float(k) for k in range(200)] and inp.dropped == 0
    inp.close()


@pytest.mark.parametrize("spin, count", [(0, 8), (50.0, min(2 * (os.cpu_count() or 1) + 1, 24))],
                         ids=["sleeping", "more-spinners-than-cores"])
def test_many_reader_processes_lose_nothing(spin, count):
    """Sleeping readers, and readers spinning 50 ms after every chunk: with more of them
    than cores, the writer and every reader still progress (they yield)."""
    out = output("block", buffer_size=256)
    params = json.dumps(out.params)
    readers = [child(READER.replace("InputStream()", f"InputStream(spin={spin})"), params)
               for _ in range(count)]
    try:
        for r in readers:
            assert r.stdout.readline().strip() == "woken"
        wait_for(lambda: out.n_inputs == count, timeout=30)
        n = 300
        for k in range(n):
            out.send(chunk(k))
        out.close(timeout=20_000)
        for r in readers:
            chunks, samples, dropped, total = json.loads(r.stdout.readline())
            assert (chunks, samples, dropped) == (n, 4 * n, 0)
            assert total == 4 * sum(range(n))
            assert r.wait(30) == 0
    finally:
        for r in readers:
            r.kill()
            r.wait()
        out.close()


def test_a_reader_killed_frees_its_slot_and_fifo():
    out = output("block", buffer_size=64)
    reader = child(READER, json.dumps(out.params))
    try:
        assert reader.stdout.readline().strip() == "woken"
        wait_for(lambda: out.n_inputs == 1, timeout=30)
        out.send(chunk(1))
        wait_for(lambda: out._wake.n_readers == 1, timeout=10)
        path = _fifo_path(out)
        assert path and os.path.exists(path)
        os.kill(reader.pid, signal.SIGKILL)
        reader.wait()
        for k in range(200):            # 200 chunks of 1 through a ring of 64: not waited for
            out.send(chunk(k, 1))
        wait_for(lambda: out._wake.n_readers == 0, timeout=10)
        assert not os.path.exists(path)          # the writer removed the dead reader's FIFO
    finally:
        reader.kill()
        reader.wait()
        out.close()


def _fifo_path(out):
    """Path of one registered reader's FIFO (from the segment's wake table), or None."""
    v = out._wake._v
    for k in range(64):
        if v.slot_word(k, 0):
            return v.slot_path(k)
    return None


def test_a_writer_killed_ends_the_stream_never_a_hang():
    writer = child(WRITER)
    try:
        params = json.loads(writer.stdout.readline())
        inp = InputStream()
        inp.connect(params)
        assert inp._wake is not None
        writer.stdin.write("5\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "sent"
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        got = []
        with pytest.raises(StreamClosed):
            for _ in range(6):
                got.append(inp.recv(timeout=30000)[0])   # not TimeoutError: the death is seen
        assert got == [4, 8, 12, 16, 20]
        assert inp.received_samples + inp.dropped == 20
        inp.close()
    finally:
        writer.kill()
        writer.wait()


def test_a_nonsense_record_is_counted_and_skipped():
    """Records are checked like headers: one going back before the last index is malformed."""
    out = output()
    inp = InputStream()
    inp.connect(out)
    try:
        out.send(chunk(1))
        assert inp.recv(timeout=5000)[0] == 4
        out._seq += 1
        out._wake.publish(out._seq, 2, 4, 0.0)      # [-2:2]: before index 4, and negative
        out.send(chunk(2))
        assert inp.recv(timeout=5000)[0] == 8
        assert inp.malformed == 1 and "does not follow" in inp.last_malformed
        assert inp.dropped == 0
    finally:
        inp.close()
        out.close()


def test_a_spinning_reader_yields_its_core_between_looks(monkeypatch):
    from acqflow.dataflow import wakeup
    yields = []
    monkeypatch.setattr(wakeup, "_yield", lambda: yields.append(1))
    out = output()
    inp = InputStream(spin=5.0)
    inp.connect(out)
    with pytest.raises(TimeoutError):
        inp.recv(timeout=10)            # nothing sent: it spins, and gives way while it does
    assert len(yields) > 1
    out.send(chunk(7))
    assert inp.recv(timeout=1000, return_data=True)[1][0, 0] == 7
    inp.close()
    out.close()


def test_a_spinning_reader_lets_the_other_threads_of_its_process_run():
    """Yielding releases the GIL: a node's RPC thread or other inputs are not held off while
    one input spins (they used to wait for the interpreter's switch interval)."""
    out = output()
    inp = InputStream(spin=10_000)
    inp.connect(out)
    ran, go = [], threading.Event()

    def work():                          # 20 short sleeps: the GIL is taken back 20 times
        go.wait()
        for _ in range(20):
            time.sleep(0.001)
            ran.append(time.perf_counter())

    other = threading.Thread(target=work)
    other.start()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(30.0)          # no forced switch: only a released GIL lets it run
    try:
        go.set()
        start = time.perf_counter()
        with pytest.raises(TimeoutError):
            inp.recv(timeout=1000)       # spins all along: the spin counts against the timeout
        done = time.perf_counter()
    finally:
        sys.setswitchinterval(interval)
    other.join(10)
    assert len([t for t in ran if t < done]) == 20
    assert done - start < 1.95           # not spin, then the whole timeout again (was 2 s)
    inp.close()
    out.close()


@given(st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                 st.text(max_size=5), st.none(), st.lists(st.integers(), max_size=2)))
def test_any_spin_value_is_a_finite_ms_or_a_one_line_error(value):
    try:
        ms = check_spin(value)
    except ValueError as exc:
        assert str(exc).startswith("spin must be ") and "\n" not in str(exc)
    else:
        assert type(ms) is float and 0 <= ms < math.inf and str(ms) != "-0.0"
