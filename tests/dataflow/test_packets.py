"""Packet streams: one compressed frame per chunk, any byte length; the index, gaps and drops
count frames; what a hostile peer sends is counted and skipped, never returned."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from acqflow import InputStream, OutputStream, StreamError
from acqflow.dataflow.streams import packets
from acqflow.dataflow.streams.wire import DATA
from tests.dataflow.rawpeer import RawPeer

CODEC = {"name": "h264", "width": 64, "height": 48}


def packet_output(**kw):
    out = OutputStream(name="cam")
    out.configure(**{"streamtype": "packets", "protocol": "ipc", "sample_rate": 30.0,
                     "codec": CODEC, **kw})
    return out


def test_packets_of_any_length_arrive_whole_and_count_frames():
    out = packet_output()
    inp = InputStream(name="in")
    inp.connect(out)
    rng = np.random.default_rng(1)
    sent = [(rng.integers(0, 256, int(n), dtype=np.uint8).tobytes(), k % 5 == 0)
            for k, n in enumerate(rng.integers(1, 50_000, 20))]
    for k, (data, key) in enumerate(sent):
        if k == 7:
            continue                             # the source skipped frame 7
        out.send(packets.packet(data, keyframe=key), index=k + 1, time=100.0 + k)
    got = []
    for _ in range(19):
        index, chunk = inp.recv(timeout=5000)
        pkt = packets.split(chunk)
        got.append((index, bytes(pkt.data), pkt.keyframe))
    assert [g[0] for g in got] == [k + 1 for k in range(20) if k != 7]
    assert [(d, key) for _, d, key in got] == [s for k, s in enumerate(sent) if k != 7]
    assert inp.gaps == 1 and list(inp.gap_log) == [(7, 8, "source")]     # one frame
    assert inp.received_samples == 19 and out.sent_samples == 19
    assert inp.params["codec"] == {**CODEC, "pix_fmt": None, "extradata": None}
    with pytest.raises(StreamError, match="fixed shape"):
        inp.set_buffer(10)
    inp.close()
    out.close()


@pytest.mark.parametrize("kw,match", [
    ({"transfermode": "sharedmem"}, "plaindata only"),
    ({"chunksize": 4}, "one packet per chunk"),
    ({"shape": (-1, 8)}, "no shape"),
    ({"dtype": "float32"}, "uint8"),
    ({"codec": None}, "needs codec="),
    ({"codec": {"name": "vp9", "width": 64, "height": 48}}, "name='vp9'"),
    ({"codec": {"name": "h264", "width": 0, "height": 48}}, "width"),
    ({"codec": {**CODEC, "extradata": "xyz"}}, "extradata"),
    ({"codec": {**CODEC, "profile": 3}}, "unknown key 'profile'"),
])
def test_bad_packet_stream_params_are_refused_by_name(kw, match):
    with pytest.raises(ValueError, match=match):
        packet_output(**kw)


def test_send_takes_only_one_packet_per_chunk():
    out = packet_output(protocol="inproc")
    for bad in (np.zeros((2, 5), np.uint8), np.zeros((1, 1), np.uint8), np.zeros(5, np.uint8),
                np.array([[4, 1, 2]], np.uint8)):
        with pytest.raises(ValueError, match="output cam: .*packet"):
            out.send(bad)
    with pytest.raises(ValueError, match="1 to"):
        packets.packet(b"")
    with pytest.raises(ValueError, match="a packet is bytes .*, got 'abc'"):
        packets.packet("abc")
    out.close()


@pytest.fixture
def hostile():
    peer = RawPeer(dtype="uint8", shape=(-1, 1))
    peer.params.update(streamtype="packets", shape=None, codec=CODEC)
    inp = InputStream(name="victim")
    inp.connect(peer.params)
    yield peer, inp
    inp.close()
    peer.close()


def send_packet(peer, data: bytes, flags: int = 1, n: int = 1, shape=None, index=None):
    peer.seq += 1
    row = np.frombuffer(bytes([flags]) + data, np.uint8)
    peer.index = peer.index + n if index is None else index
    peer.send(peer.header(DATA, n=n, shape=[1, len(row)] if shape is None else shape), row.tobytes())


def test_a_hostile_peer_gets_its_messages_counted_and_skipped(hostile):
    peer, inp = hostile
    bad = [dict(n=2, shape=[2, 3]), dict(shape=[1, 1], data=b""), dict(shape=[1, 2, 2]),
           dict(flags=0x82), dict(flags=0xFF), dict(shape=[1, 9])]
    for k, case in enumerate(bad):
        send_packet(peer, case.pop("data", b"ab"), **case)
        peer.index -= case.get("n", 1)        # the bad message claimed frames it did not hold
        send_packet(peer, b"good%d" % k)
        index, chunk = inp.recv(timeout=5000)
        assert bytes(packets.split(chunk).data) == b"good%d" % k
        assert inp.malformed == k + 1
    assert inp.gaps == 0


@settings(max_examples=200, deadline=None)
@given(st.one_of(
    st.binary(max_size=64).map(lambda b: np.frombuffer(b, np.uint8).reshape(1, -1)),
    st.tuples(st.integers(0, 3), st.integers(0, 6), st.sampled_from(["u1", "i2", "f4"])).map(
        lambda t: np.zeros(t[:2], t[2])),
    st.binary(max_size=16).map(lambda b: np.frombuffer(b, np.uint8)),
    st.just(None), st.text(max_size=5)))
def test_split_gives_a_packet_or_a_clear_error(chunk):
    try:
        pkt = packets.split(chunk)
    except packets.MalformedPacket as exc:
        assert "packet" in str(exc) and "\n" not in str(exc)
    else:
        assert len(pkt.data) == chunk.shape[1] - 1 and pkt.keyframe == bool(chunk[0, 0] & 1)


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.none() | st.integers(-5, 1 << 40) | st.text(max_size=8) | st.binary(max_size=8),
                    lambda inner: st.dictionaries(st.sampled_from(
                        ["name", "width", "height", "pix_fmt", "extradata", "x"]), inner, max_size=5),
                    max_leaves=8))
def test_codec_param_checks_give_a_one_line_error(codec):
    try:
        out = packets.check_codec(codec)
    except ValueError as exc:
        assert "\n" not in str(exc)
    else:
        assert out["name"] in packets.CODECS and 1 <= out["width"] <= 16384
