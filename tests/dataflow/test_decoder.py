"""The stream decoder trusts no header: malformed messages are counted and skipped
(``input.malformed``), never returned as data, never raised at the reader."""
import math

import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from acqflow import InputStream
from acqflow.dataflow.errors import MalformedMessage, StreamClosed
from acqflow.dataflow.wire import CLOSED, DATA, HEARTBEAT, SHARED, unpack_header
from acqflow.testing import examples
from tests.dataflow.rawpeer import RawPeer


def connected(position, name):
    """A raw peer at ``position`` and an input connected to it; closes both after."""
    peer = RawPeer(position=position)
    inp = InputStream(name=name)
    inp.connect(peer.params)
    yield peer, inp
    inp.close()
    peer.close()


@pytest.fixture
def raw():
    yield from connected((0, 0), "victim")


def expect_good(inp, index):
    """The next chunk returned is the valid one ending at ``index``, values intact."""
    got, data = inp.recv(timeout=5000)
    assert got == index
    assert data[:, 0].tolist() == list(range(index - len(data), index))


def bad_messages(peer):
    """(frames, problem) pairs a careless or hostile sender could produce, given that
    the last valid chunk ended at peer.index with seq peer.seq."""
    h, s, i = peer.header, peer.seq, peer.index
    payload = np.zeros((3, 2), "float32").tobytes()
    return [
        ([h(seq=s + 1, index=i + 4, n=4), payload], "payload of 24 bytes"),     # nsamples != rows
        ([h(seq=s + 1, index=i + 3, n=-3), payload], "out of range"),           # negative
        ([h(seq=s + 1, index=i - 3, n=3), payload], "goes back"),               # backwards
        ([h(seq=s, index=i + 3), payload], "repeats"),                          # repeated seq
        ([peer.raw_header(DATA, [s + 1, float(i + 3), 3, 0.0, "<f4", [3, 2]]), payload],
         "must be ints"),                                                       # float index
        ([peer.raw_header(DATA, [s + 1, True, 3, 0.0, "<f4", [3, 2]]), payload], "must be ints"),
        ([peer.raw_header(DATA, [s + 1, i + 3, 3, "now", "<f4", [3, 2]]), payload], "send_time"),
        ([peer.raw_header(DATA, [s + 1, i + 3, 3, 0.0, "<f4", 7]), payload], "shape must be"),
        ([peer.raw_header(DATA, [s + 1, i + 3]), payload], "6-item array"),
        ([peer.raw_header(DATA, {"seq": 1}), payload], "6-item array"),
        ([b"MD\xc1\xc1", payload], "undecodable"),
        ([b"MQ" + msgpack.packb([1]), payload], "not a stream message header"),
        ([h(seq=s + 1, index=i + 3, dtype="<f8"), payload], "does not fit the stream"),
        ([h(seq=s + 1, index=i + 3, shape=[3, 5]), payload], "does not fit the stream"),
        ([h(seq=s + 1, index=i + 3)], "1 frames"),                              # payload missing
        ([h(seq=s + 1, index=i + 3), payload, payload], "3 frames"),
        ([h(SHARED, seq=s + 1, index=i + 3)], "shared-memory message on a plaindata"),
        ([h(HEARTBEAT, seq=s - 1, index=i, n=0, shape=[])], "goes back"),
        ([b"MD" + b"\x91" * 3000 + b"\x00", payload], "undecodable"),         # nested 3000 deep
    ]


def test_each_malformed_header_is_counted_skipped_and_named(raw):
    peer, inp = raw
    expect_good(inp, peer.good())
    for k in range(len(bad_messages(peer))):
        frames, problem = bad_messages(peer)[k]
        peer.send(*frames)
        expect_good(inp, peer.good())      # the bad one is skipped: the next good one arrives
        assert inp.malformed == k + 1, problem
        assert problem in inp.last_malformed
        assert inp.dropped == 0 and inp.gaps == 0
    assert inp.stats()["malformed"] == len(bad_messages(peer))


def test_unpack_header_errors_are_stream_errors_naming_the_problem():
    for raw, problem in [(b"", "not a stream message header"), (b"MX\x93\x01\x02\x03", "6-item"),
                         (b"MD" + msgpack.packb([1, 5, 9, 0.0, "<f4", [9]]), "out of range")]:
        with pytest.raises(MalformedMessage, match=problem):
            unpack_header(raw)


def test_a_running_node_keeps_running_through_malformed_messages():
    """Regression: one malformed message put a running filter node into 'error'."""
    from acqflow.dataflow.processing import ProcessingNode

    class Double(ProcessingNode):
        def process(self, index, data):
            return data * 2

    peer = RawPeer()
    node = Double(name="double")
    node.configure()
    node.inputs["input"].connect(peer.params)
    node.outputs["output"].configure(protocol="inproc")
    sink = InputStream()
    sink.connect(node.outputs["output"])
    node.initialize()
    node.start()
    try:
        for k in range(len(bad_messages(peer))):
            peer.send(*bad_messages(peer)[k][0])
            index = peer.good()
            got, data = sink.recv(timeout=5000)
            assert got == index and node.state == "running"
            assert data[:, 0].tolist() == [2 * v for v in range(index - 3, index)]
        assert node.inputs["input"].malformed == len(bad_messages(peer))
    finally:
        node.stop()
        node.close()
        sink.close()
        peer.close()


# -- fuzz ---------------------------------------------------------------------
# Integers near the peer's position, or far out of range: an accepted junk chunk can
# never jump past the next valid one (sent 25 messages / 40 samples further on).
_int = st.one_of(st.integers(-3, 20), st.sampled_from([-2**63, 2**62, 2**63, 2**64 - 1]))
_field = st.one_of(_int, st.floats(allow_nan=True), st.booleans(), st.none(),
                   st.text(max_size=8), st.binary(max_size=8), st.lists(_int, max_size=4))


@st.composite
def frames(draw, seq, index):
    """A random or mutated message: valid headers with fields replaced, bytes flipped,
    frames added or removed, or plain noise."""
    kind = draw(st.sampled_from([DATA, SHARED, CLOSED, HEARTBEAT, b"Q"]))
    n = draw(st.integers(0, 6))
    fields = [seq + draw(st.integers(-2, 3)), index + draw(st.integers(-4, 8)), n,
              draw(st.floats(-10, 2e9)), draw(st.sampled_from(["<f4", "<f8", "|u1", None])),
              [n, draw(st.integers(0, 3))]]
    for _ in range(draw(st.integers(0, 3))):
        k = draw(st.integers(0, 5))
        if k in (0, 1):
            v = draw(_int)
            fields[k] = v if abs(v) > 2**40 else v + (seq, index)[k]
        else:
            fields[k] = draw(_field)
    if draw(st.booleans()):
        fields = fields[:draw(st.integers(0, 6))]
    header = b"M" + kind + msgpack.packb(fields)
    if draw(st.booleans()):
        pos = draw(st.integers(0, len(header) - 1))
        header = header[:pos] + bytes([draw(st.integers(0, 255))]) + header[pos + 1:]
    if draw(st.booleans()):
        header = draw(st.binary(max_size=40))
    payload = draw(st.binary(max_size=64))
    shape = fields[5] if len(fields) == 6 and isinstance(fields[5], list) else [n, 2]
    if draw(st.booleans()) and all(isinstance(v, int) and 0 <= v < 10 for v in shape):
        payload = b"\x00" * (math.prod(shape) * 4)
    return [header] + [payload] * draw(st.integers(0, 2))


@pytest.fixture(scope="module")
def fuzz_pair():
    yield from connected((5, 100), "fuzzed")


@settings(max_examples=examples(400), deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzz_decoder_never_crashes_never_returns_wrong_data(fuzz_pair, data):
    """Random and mutated frames from a raw peer, each followed by a valid chunk: the
    input never raises (but StreamClosed for a well-formed end), returns the valid chunk
    intact, and whatever junk it accepted was consistent with its own header."""
    peer, inp = fuzz_pair
    last = inp._last_index
    before, changes = inp.stats(), inp.stream_changes
    peer.send(*data.draw(frames(inp._last_seq, last)))
    peer.seq, peer.index = inp._last_seq + 25, last + 37
    good = peer.good()
    while True:
        try:
            index, chunk = inp.recv(timeout=10000)
        except StreamClosed:                # a well-formed end: rejoin where the peer stands
            inp.close()
            peer.seq, peer.index = peer.seq + 1, good   # the end consumed a seq; skip past it
            inp.connect(peer.params)
            good = peer.good()
            last = good - 3
            continue
        assert index > last and chunk.dtype == np.float32 and chunk.shape[1:] == (2,)
        assert len(chunk) <= index - last
        last = index
        if index == good:
            assert chunk[:, 0].tolist() == [good - 3, good - 2, good - 1]
            break
        assert index < good
    st_ = inp.stats()
    if inp.stream_changes == changes:
        # what this example accounted (received + dropped) fits in the indexes it spanned; a
        # junk end with a far index followed by a rejoin lower down is a new stream (counted
        # in stream_changes), whose accounting starts again
        accounted = st_["samples"] + st_["dropped"] - before["samples"] - before["dropped"]
        assert accounted <= good - before["index"]
