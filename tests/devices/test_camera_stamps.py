"""Camera frame numbers and capture stamps, on real files: a file whose presentation times
skip frames (as a camera's driver drops them) gives gaps, and a stepped wall clock does not
move the capture stamps."""
import fractions

import numpy as np
import pytest

from acqflow.dataflow.streams import clock
from acqflow.testing import read_node, wait_for

cv2 = pytest.importorskip("cv2")
av = pytest.importorskip("av")
from acqflow.devices import Camera  # noqa: E402

W, H, N, FPS = 64, 48, 40, 30.0
SKIPPED = range(10, 15)                         # frames the 'driver' dropped
KEPT = [k for k in range(N) if k not in SKIPPED]


@pytest.fixture(scope="module")
def dropped_video(tmp_path_factory):
    """FFV1 in Matroska (lossless): frame k is uniformly k * 5, presented at k / FPS; frames
    10-14 are missing, so the file's time jumps from 9/30 to 15/30 s."""
    path = str(tmp_path_factory.mktemp("vfr") / "dropped.mkv")
    with av.open(path, "w") as out:
        stream = out.add_stream("ffv1", rate=int(FPS))
        stream.width, stream.height, stream.pix_fmt = W, H, "bgr0"
        for k in KEPT:
            frame = av.VideoFrame.from_ndarray(np.full((H, W, 3), k * 5, np.uint8), format="bgr24")
            frame.pts, frame.time_base = k, fractions.Fraction(1, int(FPS))
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def camera(path, **kw):
    """A Camera on ``path``, initialized, and inputs on its video and timestamps."""
    node = Camera(name="cam")
    video, stamps = read_node(node, ["video", "timestamps"], device=path, **kw)
    return node, video, stamps


def receive(video, stamps, n):
    out = []
    for _ in range(n):
        i, frame = video.recv(timeout=10000)
        j, row = stamps.recv(timeout=10000)
        assert i == j
        out.append((i, int(frame[0, 0, 0, 0]), row[0, 0], row[0, 1], video.last_sample_time))
    return out


@pytest.mark.parametrize("kw", [{"realtime": False}, {"fps": 300.0}], ids=["fast", "paced"])
def test_frames_the_source_skipped_are_a_gap_and_indexes_are_frame_numbers(dropped_video, kw):
    node, video, stamps = camera(dropped_video, **kw)
    node.start()
    got = receive(video, stamps, len(KEPT))
    node.close()
    assert [i for i, *_ in got] == [k + 1 for k in KEPT]        # index = frame number + 1
    assert [v for _, v, *_ in got] == [k * 5 for k in KEPT]     # the frames themselves
    np.testing.assert_allclose([m for *_, m, _ in got], np.array(KEPT) / FPS, atol=0.002)
    assert (video.gaps, stamps.gaps, node.skipped, node.frames) == (1, 1, len(SKIPPED), len(KEPT))
    assert video.gap_log[0][:2] == (10, 15) or list(video.gap_log[0][:2]) == [10, 15]


def test_capture_stamps_and_chunk_times_ignore_a_wall_clock_step(dropped_video, monkeypatch):
    stepped = []
    wall = clock.now
    monkeypatch.setattr(clock, "now", lambda: wall() + (29.0 if stepped else 0.0))
    node, video, stamps = camera(dropped_video, realtime=False)
    node.start()
    got = receive(video, stamps, 5)
    stepped.append(True)                          # the wall clock jumps 29 s forward (NTP, VM resume)
    got += receive(video, stamps, len(KEPT) - 5)
    node.close()
    capture = np.array([c for _, _, c, _, _ in got])
    chunk_times = np.array([t for *_, t in got])
    assert np.all(np.diff(capture) >= 0) and np.diff(capture).max() < 5.0
    np.testing.assert_array_equal(chunk_times, capture)  # each chunk carries its capture stamp
    wait_for(lambda: node.state == "closed")


def test_frame_numbers_from_a_sequence_number_a_driver_stamp_or_neither():
    from acqflow.devices.camera import FrameNumbers
    seq = FrameNumbers(30.0)                      # a backend keeping a frame sequence number
    assert [seq.next(p, 0.0) for p in (5, 6, 9, 10)] == [0, 1, 4, 5] and seq.skipped == 2
    stamps = FrameNumbers(30.0)                   # driver stamps (s), jittery, one frame lost
    assert [stamps.next(-1, t) for t in (10.0, 10.034, 10.066, 10.134, 10.166)] == [0, 1, 2, 4, 5]
    plain = FrameNumbers(30.0)                    # neither: one number per grab
    assert [plain.next(0, 0.0) for _ in range(3)] == [0, 1, 2] and plain.skipped == 0
    plain.restart()                               # a file looped: its times start again
    assert plain.next(1, 0.0) == 3
