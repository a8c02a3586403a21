"""A chunk carries the time its last sample was taken (``send(..., time=)``), and every
input with a sample rate fits a time model to those times, on its own clock."""
import msgpack
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from acqflow import InputStream, OutputStream
from acqflow.dataflow import clock
from acqflow.dataflow.errors import MalformedMessage, StreamError
from acqflow.dataflow.wire import DATA, pack_header, unpack_header
from acqflow.testing import examples
from tests.dataflow.conftest import Peer

FS = 1000.0


def drifting_chunks(n_chunks, chunk, drift_ppm, jitter, seed=0):
    """[n, None, t] chunk entries of a clock ``drift_ppm`` fast, times + ``jitter`` (sd)."""
    rng = np.random.default_rng(seed)
    rate = FS * (1 + drift_ppm * 1e-6)
    return [[chunk, None, (k * chunk - 1) / rate + float(rng.normal(0, jitter))]
            for k in range(1, n_chunks + 1)], rate


def recv_all(inp, index):
    while inp.recv(timeout=5000)[0] < index:
        pass


@pytest.mark.parametrize("transfermode", ["plaindata", "sharedmem"])
def test_time_model_recovers_a_drifting_clock_across_processes(transfermode):
    """A sender on another clock (100 s off, its own clock id) sends 60 s of 10-sample chunks
    stamped on a clock 80 ppm fast with 1 ms jitter; the receiver's model finds the rate
    within 15 ppm and places the samples on its own clock."""
    peer = Peer(env={clock.ENV_OFFSET: "100", clock.ENV_ID: "far-host"})
    own = clock.clock_id()
    clock.set_offsets({"far-host": {"offset": 100.0, "uncertainty": 1e-4}}, reference=own)
    inp = InputStream(name="timed")
    try:
        params = peer.ask(cmd="output", params=dict(protocol="tcp", transfermode=transfermode,
                                                    shape=[-1, 4], dtype="float32", sample_rate=FS,
                                                    backpressure="block"))
        inp.connect(params)
        assert inp.time_model is not None and not inp.time_model.ready
        chunks, rate = drifting_chunks(6000, 10, 80.0, 1e-3)
        peer.tell(cmd="send", streamtype="analogsignal", chunks=chunks)
        recv_all(inp, 60_000)
        t0_far = peer.read()["t0"]
        tm = inp.time_model
        assert abs(tm.drift_ppm - 80.0) < 15
        assert abs(tm.rate - rate) / rate < 15e-6
        # on this process's clock: the far clock's 100 s are taken off
        assert abs(inp.time_of(59_999) - (t0_far - 100.0 + 59_999 / rate)) < 1e-3
        assert inp.index_at(inp.time_of(12_345)) == 12_345
        assert inp.last_sample_time == pytest.approx(t0_far + chunks[-1][2])
        # latency is still measured from the send time, not from the (older) sample time
        assert all(lat < 30 for lat in inp.latencies)
    finally:
        clock.set_offsets({})
        inp.close()
        peer.ask(cmd="close")
        peer.stop()


def test_time_defaults_to_now_and_staleness_uses_send_time():
    """Without ``time=`` the chunk's time is its send time; an old sample time (a replay)
    is neither stale nor late."""
    out = OutputStream(name="o")
    out.configure(protocol="inproc", shape=(-1, 2), dtype="float32", sample_rate=100.0)
    inp = InputStream(name="i")
    inp.connect(out)
    try:
        before = clock.now()
        out.send(np.zeros((5, 2), "float32"))
        inp.recv(timeout=2000)
        assert inp.last_sample_time == inp.last_send_time >= before
        out.send(np.zeros((5, 2), "float32"), time=before - 3600.0)      # taken an hour ago
        assert inp.recv(timeout=2000)[0] == 10
        assert inp.last_sample_time == before - 3600.0 and inp.stale == 0
        assert inp.last_latency < 60
    finally:
        inp.close()
        out.close()


def test_chunking_sends_the_time_of_the_last_piece():
    out = OutputStream(name="o")
    out.configure(protocol="inproc", shape=(-1, 1), dtype="float32", sample_rate=100.0, chunksize=10)
    inp = InputStream(name="i")
    inp.connect(out)
    try:
        out.send(np.zeros((6, 1), "float32"), time=50.0)
        out.send(np.zeros((6, 1), "float32"), time=50.06)
        assert inp.recv(timeout=2000)[0] == 12
        assert inp.last_sample_time == 50.06
    finally:
        inp.close()
        out.close()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "soon", True, [1.0]])
def test_bad_time_is_refused_naming_it(bad):
    out = OutputStream(name="o")
    out.configure(protocol="inproc", shape=(-1, 1), dtype="float32")
    try:
        with pytest.raises(ValueError, match=r"time must be a (finite )?number"):
            out.send(np.zeros((1, 1), "float32"), time=bad)
        assert out.index == 0
    finally:
        out.close()


def test_event_streams_have_no_time_model_and_source_gaps_reset_it():
    out = OutputStream(name="ev")
    out.configure(protocol="inproc", streamtype="event")
    inp = InputStream(name="i")
    inp.connect(out)
    try:
        assert inp.time_model is None
        with pytest.raises(StreamError, match="no sample rate"):
            inp.index_at(1.0)
    finally:
        inp.close()
        out.close()
    out = OutputStream(name="sig")
    out.configure(protocol="inproc", shape=(-1, 1), dtype="float32", sample_rate=1000.0)
    inp = InputStream(name="i")
    inp.connect(out)
    try:
        for k in range(1, 20):
            out.send(np.zeros((10, 1), "float32"), time=10.0 + k * 0.01)
            inp.recv(timeout=2000)
        assert inp.time_model.ready and inp.time_model.resets == 0
        out.send(np.zeros((10, 1), "float32"), index=5000, time=99.0)   # the source skipped
        assert inp.recv(timeout=2000)[0] == 5000
        assert inp.time_model.resets == 1
        assert inp.time_of(4999) == pytest.approx(99.0)
    finally:
        inp.close()
        out.close()


def test_header_sample_time_round_trips_and_is_checked():
    raw = pack_header(DATA, 1, 10, 10, 5.0, "<f4", [10, 1], sample_time=4.5)
    assert unpack_header(raw).sample_time == 4.5 and unpack_header(raw).send_time == 5.0
    assert unpack_header(pack_header(DATA, 1, 10, 10, 5.0, "<f4", [10, 1])).sample_time is None


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(st.none(), st.booleans(), st.integers(-(1 << 63), (1 << 64) - 1), st.floats(), st.text(max_size=5),
                 st.binary(max_size=5), st.lists(st.integers(-5, 5), max_size=2)),
       st.integers(0, 2))
def test_hostile_sample_time_is_refused_as_malformed(value, extra):
    fields = [1, 10, 10, 5.0, "<f4", [10, 1], value] + [0.0] * extra
    try:
        head = unpack_header(b"MD" + msgpack.packb(fields))
    except MalformedMessage:
        return
    assert extra == 0 and isinstance(head.sample_time, (int, float)) and np.isfinite(head.sample_time)
