"""Reading compressed video on frame threads: the exact frames of a one-thread decoder, in
any order; a decoder dropped mid-run never hangs; FFV1 is intra-only (a random frame is
one decode); the encoder's crf gives PyAV's own bytes; its CPU is counted."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from acqflow.storage import open_recording
from acqflow.storage.videoread import PacketDecoder
from tests.storage.videopk import pattern, psnr, record

av = pytest.importorskip("av")


@pytest.fixture(scope="module")
def h264(tmp_path_factory):
    path = tmp_path_factory.mktemp("threads") / "rec"
    record(path, {"name": "h264", "gop": 15}, n=75)
    return path


def _decoder(path, threads):
    rec = open_recording(path)
    cam = rec["cam"]
    return rec, PacketDecoder(cam.name, cam.codec, cam.shape, lambda: rec.stream_table(cam.sid),
                              lambda k0, k1: rec.record_payloads(cam, k0, k1), threads=threads)


def test_frame_threads_give_the_one_thread_frames_in_any_order(h264):
    _, one = _decoder(h264, 1)
    expected = list(one.frames(0, 75))
    _, two = _decoder(h264, 2)
    order = [int(i) for i in np.random.default_rng(5).integers(0, 75, 40)] + [74, 0, 73, 74]
    for k in order:
        two.clear() if k % 3 == 0 else None       # both: a fresh decoder and a reused one
        np.testing.assert_array_equal(next(two.frames(k, k + 1)), expected[k])
    two.clear()
    for a, b in [(0, 75), (10, 31), (60, 75), (29, 30)]:
        got = list(two.frames(a, b))
        assert len(got) == b - a
        for k, frame in zip(range(a, b), got):
            np.testing.assert_array_equal(frame, expected[k])


def test_reading_in_a_row_on_frame_threads_seeks_once(h264):
    _, two = _decoder(h264, 2)
    for k in range(75):
        next(two.frames(k, k + 1))
    assert two.seeks == 1


def test_dropping_a_frame_threaded_decoder_mid_run_does_not_hang(h264):
    # PyAV: a frame-threaded decoder freed while a worker holds a packet whose buffer
    # Python owns waits for the GIL its freeing thread holds (the process hangs)
    code = textwrap.dedent(f"""
        import numpy as np
        from tests.storage.test_video_decode_threads import _decoder
        rec, dec = _decoder({str(h264)!r}, 2)
        for k in np.random.default_rng(0).integers(0, 75, 60):
            next(dec.frames(int(k), int(k) + 1))
            dec.clear()
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]


def test_ffv1_every_frame_is_a_keyframe_and_a_random_frame_is_one_decode(tmp_path):
    rec = record(tmp_path / "rec", "ffv1", n=40)
    cam = rec["cam"]
    assert cam.codec["gop"] == 1
    assert list(cam.record_table()["flags"] & 1) == [1] * 40
    decoder = rec.decoder(cam)
    fed = []
    payloads = decoder._payloads
    decoder._payloads = lambda k0, k1: (fed.append(k1 - k0), payloads(k0, k1))[1]
    for k in (33, 7, 21):
        np.testing.assert_array_equal(cam[k], pattern(k))
    assert fed == [1, 1, 1]


def test_h264_bytes_and_quality_are_pyavs_at_the_same_settings(tmp_path):
    n = 45
    cam = record(tmp_path / "rec", {"name": "h264", "crf": 23, "gop": 15}, n=n)["cam"]
    ours = int(cam.record_table()["nbytes"].sum())
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt = 128, 96, "yuv420p"
    ctx.framerate = 30
    ctx.time_base = ctx.framerate ** -1
    ctx.gop_size, ctx.max_b_frames, ctx.thread_count = 15, 0, 1
    ctx.options = {"preset": "ultrafast", "crf": "23"}
    ctx.open()
    theirs = 0
    for i in range(n):
        frame = av.VideoFrame.from_ndarray(pattern(i), format="bgr24")
        frame.pts = i
        theirs += sum(p.size for p in ctx.encode(frame))
    theirs += sum(p.size for p in ctx.encode(None))
    # ours repeats SPS/PPS at each keyframe (a few dozen bytes a GOP); nothing else differs
    assert 1.0 <= ours / theirs < 1.03, (ours, theirs)
    assert psnr(cam[:], np.stack([pattern(i) for i in range(n)])) > 30


def test_encoder_cpu_is_in_the_stream_stats(tmp_path):
    from acqflow.storage import RecordingWriter
    from tests.storage.videopk import params
    with RecordingWriter(tmp_path / "rec") as w:
        w.add_stream("cam", params(), codec={"name": "h264", "queue": 30})
        for i in range(20):
            assert w.write("cam", pattern(i)[None])
    stats = w.stats()["streams"]["cam"]
    assert stats["frames_encoded"] == 20 and stats["encoder_cpu_s"] > 0
