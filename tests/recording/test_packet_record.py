"""A camera's packets recorded as they come: a PacketCamera in another process, a Recorder and a
live PacketDecoder here.  The stored records are the received packets byte for byte; random
access and remux export work as on video the recorder encoded; MJPEG is stored as jpg."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from acqflow import InputStream
from acqflow.dataflow.streams import packets
from acqflow.nodes import PacketDecoder
from acqflow.nodes.recorder import Recorder
from acqflow.storage import RecordingWriter, open_recording
from acqflow.storage.errors import StorageError
from acqflow.storage.export_remux import nal_units, to_remux
from acqflow.storage.videoenc import KEYFRAME
from acqflow.testing import wait_for
from tests.devices.packetvideo import H, W, source_frames, source_packets, write_video

av = pytest.importorskip("av")
ProcessSpawner = pytest.importorskip("acqflow.rpc").ProcessSpawner

pytestmark = pytest.mark.timeout(120)
N = 45


@pytest.fixture(scope="module")
def child():
    proc = ProcessSpawner(name="packetcam-child")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("packetrec")
    return {c: write_video(root, c, n=N) for c in ("h264", "mjpeg")}


def record_camera(child, source, dirname):
    """PacketCamera (child process, paced at 90 frames/s) -> Recorder + PacketDecoder (here);
    returns the open recording and the frames the live decoder sent."""
    rdev = child.client._import("acqflow.devices.packetcamera")
    cam = rdev.PacketCamera(name="pcam")
    cam.configure(device=source, fps=90)
    cam.outputs["packets"].configure()
    cam.outputs["timestamps"].configure()
    cam.initialize()
    rec = Recorder(name="rec")
    rec.configure(streams={"cam": cam.outputs["packets"], "ts": cam.outputs["timestamps"]},
                  dirname=dirname, block_s=0.1)
    dec = PacketDecoder(name="live")
    dec.configure()
    dec.inputs["input"].connect(cam.outputs["packets"])
    dec.outputs["output"].configure(protocol="inproc")
    view = InputStream()
    view.connect(dec.outputs["output"])
    for node in (rec, dec):
        node.initialize()
        node.start()
    cam.start()
    shown = {}
    while len(shown) < N:
        i, frame = view.recv(timeout=20000)
        shown[i - 1] = frame[0]
    wait_for(lambda: rec.stats()["inputs"]["cam"]["ended"] and rec.stats()["inputs"]["ts"]["ended"],
             timeout=30)
    for node in (rec, dec):
        node.stop()
        node.close()
    view.close()
    cam.close()
    return open_recording(dirname), shown, rec.stats()


def test_h264_packets_are_stored_as_received_and_read_back(child, files, tmp_path):
    rec, shown, stats = record_camera(child, files["h264"], tmp_path / "rec")
    cam, ts = rec["cam"], rec["ts"]
    src = source_packets(files["h264"])
    frames = source_frames(files["h264"])
    stored = [bytes(d) for _, d in rec.record_payloads(cam, 0, cam.n_records)]
    assert stored == [d for d, _ in src]                            # byte for byte
    table = cam.record_table()
    assert [bool(f & KEYFRAME) for f in table["flags"]] == [k for _, k in src]
    assert cam.codec["name"] == "h264" and cam.codec["source"] == "packets"
    assert cam.shape == (-1, H, W, 3) and len(cam) == N and cam.params["pixel_format"] == "bgr"
    for block in np.unique(table["block"]):                         # every block starts on a key
        assert table["flags"][np.flatnonzero(table["block"] == block)[0]] & KEYFRAME
    for i in (37, 0, 13, 44, 22):                                   # random access
        np.testing.assert_array_equal(cam[i], frames[i])
    np.testing.assert_array_equal(cam[8:16], np.stack(frames[8:16]))
    np.testing.assert_array_equal(shown[30], frames[30])            # the live view
    np.testing.assert_allclose(cam.times(), ts.read()[:, 0])        # stamped at capture
    assert stats["writer"]["streams"]["cam"]["packets"] == N and stats["inputs"]["cam"]["gaps"] == 0
    out = to_remux(cam, tmp_path / "cam.mkv")                       # remux, not re-encoded
    with av.open(str(out)) as c:
        remuxed = [bytes(p) for p in c.demux(video=0) if p.size]
    assert [nal_units(p, length_prefixed=True) for p in remuxed] == [nal_units(d) for d in stored]


def test_mjpeg_packets_are_stored_as_jpg_frames(child, files, tmp_path):
    cv2 = pytest.importorskip("cv2")
    rec, shown, _ = record_camera(child, files["mjpeg"], tmp_path / "rec")
    cam = rec["cam"]
    stored = [bytes(d) for _, d in rec.record_payloads(cam, 0, cam.n_records)]
    assert stored == [d for d, _ in source_packets(files["mjpeg"])]
    assert cam.codec["name"] == "jpg" and len(cam) == N
    for i in (3, 40):
        np.testing.assert_array_equal(cam[i], cv2.imdecode(np.frombuffer(stored[i], np.uint8),
                                                           cv2.IMREAD_UNCHANGED))
    assert np.abs(shown[40].astype(int) - cam[40]).mean() < 3      # PyAV's and OpenCV's decoders


def test_writer_starts_at_the_first_keyframe_and_refuses_a_codec(files, tmp_path):
    src = source_packets(files["h264"])
    params = {"streamtype": "packets", "sample_rate": 30.0,
              "codec": {"name": "h264", "width": W, "height": H}}
    with pytest.raises(ValueError, match="stored as it comes; it takes no codec"):
        RecordingWriter(tmp_path / "x").add_stream("cam", params, codec="h264")
    with RecordingWriter(tmp_path / "rec", block_s=0.05) as w:
        w.add_stream("cam", params)
        for i in range(3, N):                         # joins mid-GOP: 3..9 cannot be decoded
            assert w.write("cam", packets.packet(*src[i]), index=i + 1, timestamp=100 + i / 30)
        with pytest.raises(ValueError, match="packet"):
            w.write("cam", np.zeros((2, 3), np.uint8), index=N + 1)
        assert w.stats().streams["cam"].skipped_before_keyframe == 7
    cam = open_recording(tmp_path / "rec")["cam"]
    assert (cam.first_index, cam.stop_index) == (10, N)
    np.testing.assert_array_equal(cam[12], source_frames(files["h264"])[12])


def test_a_source_with_rare_keyframes_still_seals_blocks(files, tmp_path):
    """Blocks keep each open GOP for the next one, but not past 8 blocks' bytes."""
    src = source_packets(files["h264"])
    assert sum(len(d) for d, _ in src) > 8 * 2000
    params = {"streamtype": "packets", "sample_rate": 30.0,
              "codec": {"name": "h264", "width": W, "height": H}}
    with RecordingWriter(tmp_path / "rec", block_s=60, block_bytes=2000) as w:
        w.add_stream("cam", params)
        for i, (data, _) in enumerate(src):          # one keyframe, at the start
            w.write("cam", packets.packet(data, keyframe=i == 0), index=i + 1)
        wait_for(lambda: w.stats().blocks >= 1, timeout=10)    # sealed before the close
    cam = open_recording(tmp_path / "rec")["cam"]
    np.testing.assert_array_equal(cam[N - 1], source_frames(files["h264"])[N - 1])


def mutated(data: bytes, draw) -> bytes:
    b = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        k = draw(st.integers(0, max(0, len(b) - 1)))
        if draw(st.booleans()):
            b[k:k + 1] = bytes([draw(st.integers(0, 255))])
        else:
            del b[k:k + draw(st.integers(1, 200))]
    return bytes(b) or b"\xff"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("codec", ["h264", "mjpeg"])
def test_hostile_packets_read_back_as_frames_or_a_clear_error(files, tmp_path_factory, codec, data):
    """Whatever a peer sent is stored as it came; reading a frame gives that frame or a
    StorageError/ValueError naming it, never a crash or a frame of another shape."""
    src = source_packets(files[codec])
    name = {"h264": "h264", "mjpeg": "mjpeg"}[codec]
    params = {"streamtype": "packets", "sample_rate": 30.0,
              "codec": {"name": name, "width": W, "height": H}}
    path = tmp_path_factory.mktemp("hostile") / "rec"
    n = data.draw(st.integers(2, 14))
    with RecordingWriter(path, block_s=0.05) as w:
        w.add_stream("cam", params)
        for i in range(n):
            raw, key = src[i]
            kind = data.draw(st.sampled_from(["good", "mutated", "random"]))
            if kind == "mutated":
                raw = mutated(raw, data.draw)
            elif kind == "random":
                raw = data.draw(st.binary(min_size=1, max_size=3000))
            w.write("cam", packets.packet(raw, key if i == 0 else data.draw(st.booleans())),
                    index=i + 1)
    cam = open_recording(path)["cam"]
    for i in data.draw(st.lists(st.integers(cam.first_index, cam.stop_index - 1), max_size=6)):
        try:
            frame = cam[i]
        except (StorageError, ValueError) as exc:
            assert "\n" not in str(exc) and str(exc)
        else:
            assert frame.shape == (H, W, 3) and frame.dtype == np.uint8


def test_a_jpeg_of_another_size_reads_back_as_a_clear_error(tmp_path):
    cv2 = pytest.importorskip("cv2")
    params = {"streamtype": "packets", "sample_rate": 30.0,
              "codec": {"name": "mjpeg", "width": W, "height": H}}
    small = cv2.imencode(".jpg", np.zeros((H // 2, W // 2, 3), np.uint8))[1].tobytes()
    with RecordingWriter(tmp_path / "rec") as w:
        w.add_stream("cam", params)
        w.write("cam", packets.packet(small, True), index=1)
    with pytest.raises(ValueError, match=r"decodes to shape \(48, 64, 3\), the stream's frames are "
                                         r"\(96, 128, 3\)"):
        open_recording(tmp_path / "rec")["cam"][0]
