"""PacketDecoder: packets in, the frames PyAV decodes out at the same indexes; after a gap it
waits for a keyframe; damaged or hostile packets are counted losses, never an exception."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from acqflow import InputStream, OutputStream
from acqflow.dataflow.streams import packets
from acqflow.testing import wait_for
from tests.devices.packetvideo import H, W, source_frames, source_packets, write_video

av = pytest.importorskip("av")
from acqflow.nodes import PacketDecoder  # noqa: E402


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("packetdec")
    return {c: write_video(root, c, n=30) for c in ("h264", "hevc", "mjpeg")}


@pytest.fixture(scope="module")
def material(files):
    return {c: (source_packets(p), source_frames(p)) for c, p in files.items()}


def decoder_for(codec, pixel_format="bgr"):
    """A PacketDecoder connected to a packet output of ``codec`` (inproc), initialized."""
    out = OutputStream(name="cam")
    out.configure(streamtype="packets", protocol="inproc", sample_rate=30.0,
                  codec={"name": codec, "width": W, "height": H})
    node = PacketDecoder(name="dec")
    node.configure(pixel_format=pixel_format)
    node.inputs["input"].connect(out)
    node.outputs["output"].configure(protocol="inproc")
    node.initialize()
    return node, out


def feed_all(node, pkts, indexes=None):
    got = {}
    for i in (range(len(pkts)) if indexes is None else indexes):
        data, key = pkts[i]
        for index, frame in node.feed(i + 1, packets.packet(data, key)):
            got[index - 1] = frame[0]
    return got


@pytest.mark.parametrize("codec", ["h264", "hevc", "mjpeg"])
def test_frames_are_what_pyav_decodes_at_the_same_indexes(material, codec):
    pkts, ref = material[codec]
    node, out = decoder_for(codec)
    params = node.outputs["output"].params
    assert (params["streamtype"], params["shape"], params["pixel_format"]) == ("video", (-1, H, W, 3), "bgr")
    assert "codec" not in params
    got = feed_all(node, pkts)
    assert sorted(got) == list(range(30))
    for i in range(30):
        np.testing.assert_array_equal(got[i], ref[i])
    assert node.errors == 0 and node.decoded == 30
    node.close()
    out.close()


def test_after_a_gap_decoding_waits_for_a_keyframe(files, material):
    pkts, _ = material["h264"]
    gray = source_frames(files["h264"], "gray")
    node, out = decoder_for("h264", "gray")
    got = feed_all(node, pkts, [i for i in range(30) if i not in (3, 4)])
    assert sorted(got) == [0, 1, 2] + list(range(10, 30))         # 5..9 need frame 3
    assert node.skipped == 5 and node.errors == 0
    np.testing.assert_array_equal(got[12], gray[12])
    node.close()
    out.close()


def test_a_live_decoder_beside_the_source(material):
    """Threads as in a graph: the node's worker decodes, a viewer's input gets the frames."""
    pkts, ref = material["mjpeg"]
    node, out = decoder_for("mjpeg", "rgb")
    view = InputStream()
    view.connect(node.outputs["output"])
    node.start()
    for i, (data, key) in enumerate(pkts[:10]):
        out.send(packets.packet(data, key), index=i + 1)
    frames = [view.recv(timeout=10000) for _ in range(10)]
    assert [i for i, _ in frames] == list(range(1, 11))
    np.testing.assert_array_equal(frames[4][1][0], ref[4][..., ::-1])      # RGB
    wait_for(lambda: node.decoded == 10, timeout=10)
    node.stop()
    node.close()
    out.close()


def mutate(data: bytes, draw) -> bytes:
    b = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        if not b:
            break
        k = draw(st.integers(0, len(b) - 1))
        op = draw(st.sampled_from(["flip", "cut", "dup"]))
        if op == "flip":
            b[k] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del b[k:k + draw(st.integers(1, 64))]
        else:
            b[k:k] = b[k:k + draw(st.integers(1, 64))]
    return bytes(b) or b"\0"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("codec", ["h264", "mjpeg"])
def test_hostile_packets_are_counted_losses_never_a_crash(material, codec, data):
    pkts, ref = material[codec]
    node, out = decoder_for(codec)
    try:
        for i in range(data.draw(st.integers(1, 12))):
            kind = data.draw(st.sampled_from(["good", "mutated", "random", "flags", "chunk"]))
            raw, key = pkts[i % len(pkts)]
            if kind == "mutated":
                raw = mutate(raw, data.draw)
            elif kind == "random":
                raw = data.draw(st.binary(min_size=1, max_size=2000))
            chunk = packets.packet(raw, data.draw(st.booleans()) if kind != "good" else key)
            if kind == "flags":
                chunk[0, 0] = data.draw(st.integers(2, 255))
            elif kind == "chunk":
                chunk = np.frombuffer(data.draw(st.binary(max_size=40)), np.uint8).reshape(1, -1)
            for index, frame in node.feed(i + 1, chunk):
                assert frame.shape == (1, H, W, 3) and frame.dtype == np.uint8
                assert 1 <= index <= i + 1
    finally:
        node.close()
        out.close()
    assert node.errors == 0 or (node.last_error and "\n" not in node.last_error)
