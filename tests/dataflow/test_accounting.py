"""Nothing lost silently: tail losses (before an output goes quiet or closes), byte- and
age-bounded drop-mode queues, and reconnects to another output."""
import time

import numpy as np
import pytest

from acqflow import InputStream, OutputStream
from acqflow.dataflow.errors import StreamClosed
from tests.dataflow.streamdata import PARAMS


def read_until(inp, done, timeout=20.0):
    """Read (keeping every chunk) until ``done()`` holds or ``timeout`` s pass."""
    got = []
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        if inp.poll(50):
            got.append(inp.recv(timeout=1000))
    return got


def accounted(inp, sent):
    return lambda: inp.received_samples + inp.dropped == sent


@pytest.mark.parametrize("protocol", ["tcp", "ipc"])
def test_tail_losses_are_counted_when_the_output_goes_quiet_and_at_close(peer, protocol):
    """Regression: 19,300 of 20,000 samples lost before close with dropped=0, gaps=0."""
    params = peer.ask(cmd="output", params=dict(PARAMS["analogsignal"], protocol=protocol, hwm=2))
    inp = InputStream()
    inp.connect(params)
    sent = peer.ask(cmd="send", streamtype="analogsignal", chunks=[[50, None]] * 400)["sent"]
    assert sent == 20000
    # a slow reader: it starts after the burst, queues overflowed meanwhile
    got = read_until(inp, accounted(inp, sent))
    assert inp.received_samples + inp.dropped == sent, inp.stats()
    assert inp.dropped > 0 and sum(len(d) for _, d in got) == inp.received_samples
    assert sum(b - a for a, b, _ in inp.gap_log) == inp.dropped
    for index, data in got:                                  # what arrived is exact
        assert data[:, 0].tolist() == [4.0 * i for i in range(index - len(data), index)]
    # the same after the output closes, with a burst lost right before it
    peer.tell(cmd="send", streamtype="analogsignal", chunks=[[50, None]] * 400)
    peer.read()
    peer.tell(cmd="close")
    with pytest.raises(StreamClosed):
        while True:
            inp.recv(timeout=10000)
    assert inp.received_samples + inp.dropped == 40000, inp.stats()
    assert sum(b - a for a, b, _ in inp.gap_log) == inp.dropped
    inp.close()


def test_heartbeat_reports_a_lost_tail_while_the_output_stays_open():
    out = OutputStream()
    out.configure(protocol="inproc", dtype="float32", shape=(-1, 1), hwm=1)
    inp = InputStream()
    inp.connect(out)
    for k in range(50):
        out.send(np.full((10, 1), k, "float32"))
    read_until(inp, accounted(inp, 500))
    assert inp.received_samples + inp.dropped == 500 and inp.dropped > 0
    assert inp.gap_log[-1][1] == 500 and inp.gap_log[-1][2] == "dropped"
    out.advance_to(600)                 # the source skips, no message follows
    read_until(inp, lambda: inp.gap_log[-1][1] == 600)
    assert inp.gap_log[-1] == (500, 600, "source") and inp.received_samples + inp.dropped == 500
    inp.close()
    out.close()


def test_losses_before_the_first_received_chunk_are_counted():
    out = OutputStream()
    out.configure(dtype="float32", shape=(-1, 1), hwm=1)
    out.send(np.zeros((7, 1), "float32"))           # before the input joined: not its loss
    inp = InputStream()
    inp.connect(out)
    for _ in range(200):
        out.send(np.zeros((5, 1), "float32"))
    read_until(inp, accounted(inp, 1000))
    assert inp.received_samples + inp.dropped == 1000 and inp.gap_log[0][0] >= 7
    inp.close()
    out.close()


@pytest.mark.parametrize("chunksize", [None, 1024])
def test_drop_mode_queue_is_bounded_in_bytes_whatever_the_chunk_size(chunksize):
    """Regression: a 4 MiB-chunk stream queued up to 1000 messages (4 GB) before dropping."""
    budget = 16 << 20
    out = OutputStream()
    out.configure(protocol="ipc", dtype="float32", shape=(-1, 1024), chunksize=chunksize,
                  max_queue_bytes=budget)
    chunk = np.zeros((1024, 1024), "float32")          # 4 MiB
    if chunksize:
        assert out.params["hwm"] * chunk.nbytes <= budget
    inp = InputStream()
    inp.connect(out)
    for _ in range(40):                                 # 160 MiB while nobody reads
        out.send(chunk)
    assert out.params["hwm"] * chunk.nbytes <= budget
    got = read_until(inp, accounted(inp, 40 * 1024))
    assert inp.received_samples + inp.dropped == 40 * 1024
    # both ends' queues, plus what the kernel's socket buffers held (< 1 MiB for ipc)
    assert len(got) * chunk.nbytes <= budget + 2 * chunk.nbytes, len(got)
    inp.close()
    out.close()


def test_drop_mode_drops_chunks_older_than_max_queue_s():
    out = OutputStream()
    out.configure(protocol="inproc", dtype="float32", shape=(-1, 2), max_queue_s=0.2)
    inp = InputStream()
    inp.connect(out)
    for _ in range(5):
        out.send(np.zeros((10, 2), "float32"))
    time.sleep(0.4)                 # the reader lags: the queue now spans > 0.2 s of sending
    out.send(np.ones((10, 2), "float32"))
    index, data = inp.recv(timeout=5000)
    assert index == 60 and (data == 1).all()
    assert inp.stale == 5 and inp.dropped == 50 and inp.gap_log[-1] == (0, 50, "dropped")
    inp.close()
    out.close()


def test_a_late_reader_still_gets_a_burst_that_nothing_newer_follows():
    """max_queue_s bounds how far behind the sender a reader may lag, not how late it
    may start: a burst read 0.4 s late, with nothing sent since, is delivered whole."""
    out = OutputStream()
    out.configure(dtype="float32", shape=(-1, 2), max_queue_s=0.2)
    inp = InputStream()
    inp.connect(out)
    for _ in range(5):
        out.send(np.zeros((10, 2), "float32"))
    time.sleep(0.4)
    assert [inp.recv(timeout=5000)[0] for _ in range(5)] == [10, 20, 30, 40, 50]
    assert inp.stale == 0 and inp.dropped == 0
    inp.close()
    out.close()


def test_block_mode_never_drops_stale_chunks():
    out = OutputStream()
    out.configure(dtype="float32", shape=(-1, 2), max_queue_s=0.1, backpressure="block")
    inp = InputStream()
    inp.connect(out)
    out.send(np.zeros((10, 2), "float32"))
    time.sleep(0.3)
    assert inp.recv(timeout=5000)[0] == 10 and inp.dropped == 0 and inp.stale == 0
    inp.close()
    out.close()


def test_reconnect_to_another_output_is_a_new_stream_not_a_rewind(caplog):
    """Regression: reconnecting to a new output made the index jump back (1000 -> 10)."""
    first, second = OutputStream(name="a"), OutputStream(name="b")
    first.configure(dtype="float32", shape=(-1, 1))
    second.configure(dtype="float32", shape=(-1, 1))
    assert first.params["stream_id"] != second.params["stream_id"]
    inp = InputStream()
    inp.connect(first)
    inp.set_buffer(2000)
    first.send(np.zeros((1000, 1), "float32"))
    assert inp.recv(timeout=5000)[0] == 1000
    inp.close()
    inp.connect(second)
    second.send(np.ones((10, 1), "float32"))
    assert inp.recv(timeout=5000)[0] == 10
    assert inp.stream_changes == 1 and inp.stream_id == second.params["stream_id"]
    assert "different output" in caplog.text
    assert inp.gaps == 0 and inp.dropped == 0 and inp.malformed == 0
    assert (inp.get_data(0, 10) == 1).all()            # the local buffer restarted too
    # the same output again (closed and reconfigured): one stream, the index goes on
    inp.close()
    second.close()
    second.configure(dtype="float32", shape=(-1, 1))
    assert second.params["stream_id"] == inp.stream_id
    inp.connect(second)
    second.send(np.ones((5, 1), "float32"))
    assert inp.recv(timeout=5000)[0] == 15 and inp.stream_changes == 1
    inp.close()
    first.close()
    second.close()


def test_recorder_inputs_count_losses_before_the_end_of_the_recording(tmp_path):
    """Regression: a Recorder input lost a burst right before its output closed and
    reported dropped=0 (the input's end-of-stream did not account for the gap)."""
    from acqflow.nodes.recorder import Recorder

    out = OutputStream(name="sig")
    out.configure(dtype="float32", shape=(-1, 2), sample_rate=1000.0, hwm=2)
    rec = Recorder(name="rec")
    rec.configure(dirname=tmp_path / "rec", streams=["sig"])
    rec.inputs["sig"].connect(out)
    rec.initialize()
    for _ in range(400):                 # the recorder is not reading yet: queues overflow
        out.send(np.zeros((50, 2), "float32"))
    rec.start()
    out.close(timeout=5000)
    deadline = time.monotonic() + 20
    while not rec.stats()["inputs"]["sig"]["ended"] and time.monotonic() < deadline:
        time.sleep(0.01)
    st = rec.stats()["inputs"]["sig"]
    assert st["ended"] and st["dropped"] > 0
    assert st["samples"] + st["dropped"] == 20000, st
    rec.stop()
    rec.close()


def test_reconnect_to_the_same_output_keeps_the_buffer_history():
    out = OutputStream()
    out.configure(dtype="float32", shape=(-1, 1))
    inp = InputStream()
    inp.connect(out)
    inp.set_buffer(100)
    out.send(np.ones((10, 1), "float32"))
    assert inp.recv(timeout=5000)[0] == 10
    inp.close()
    out.send(np.ones((5, 1), "float32"))          # sent while away
    inp.connect(out)
    out.send(np.full((5, 1), 2, "float32"))
    assert inp.recv(timeout=5000)[0] == 20
    data = inp.get_data(0, 20)[:, 0]
    assert (data[:10] == 1).all() and np.isnan(data[10:15]).all() and (data[15:] == 2).all()
    assert list(inp.gap_log) == [(10, 15, "disconnected")] and inp.stream_changes == 0
    inp.close()
    out.close()


def test_explicit_hwm_is_kept_within_the_byte_budget():
    out = OutputStream()
    out.configure(dtype="float32", shape=(-1, 16), chunksize=32, hwm=5000)   # 2 KiB chunks
    assert out.params["hwm"] == 5000
    out.close()
    out = OutputStream()
    out.configure(dtype="float32", shape=(-1, 1 << 18), chunksize=4, hwm=5000)   # 4 MiB chunks
    assert out.params["hwm"] * (4 << 20) <= 32 << 20
    out.close()


def test_drop_mode_queue_of_a_rated_stream_holds_a_burst_of_small_chunks():
    """Regression: with only the rate known, a reader's queue was planned for 4 MiB chunks
    (7 messages), so a burst of 25 small chunks to a reader connected before (or after)
    the first send lost the tail under load."""
    out = OutputStream()
    out.configure(protocol="inproc", dtype="float32", shape=(-1, 16), sample_rate=1000.0)
    early = InputStream()
    early.connect(out)
    for k in range(25):
        out.send(np.full((40, 16), k, "float32"))
    late = InputStream()
    late.connect(out)
    for k in range(25, 50):
        out.send(np.full((40, 16), k, "float32"))
    for inp, first in ((early, 0), (late, 25)):
        got = read_until(inp, accounted(inp, 50 * 40 - first * 40))
        assert inp.dropped == 0 and len(got) == 50 - first
        inp.close()
    out.close()
