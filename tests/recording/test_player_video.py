"""Player on a PNG video recording: frames decoded ahead (on several threads) come out in order,
equal to the recorded ones, at their original indexes (a gap stays a gap), after a seek too."""
import numpy as np
import pytest

from acqflow.devices.player import Player
from acqflow.storage.writer import RecordingWriter
from acqflow.testing import wait_for
from tests.recording.common import Sink

pytest.importorskip("cv2")

H, W, FPS = 24, 32, 30.0
GAP = range(20, 25)                    # frames never recorded
FRAMES = [k for k in range(60) if k not in GAP]


def frame(k):
    f = np.zeros((H, W, 3), np.uint8)
    f[..., 0], f[..., 1] = k, 255 - k
    f[k % H, :, 2] = 255
    return f


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp("pv") / "rec"
    w = RecordingWriter(path, block_s=0.001, block_bytes=4000)
    w.add_stream("cam", {"streamtype": "video", "dtype": "uint8", "shape": (-1, H, W, 3),
                         "sample_rate": FPS}, codec="png")
    for k in FRAMES:
        w.write("cam", frame(k)[None], k + 1, timestamp=100.0 + k / FPS)
    w.close()
    return path


def frames_of(sink):
    return {i - 1: d[0] for i, d, _ in sink.chunks}


def test_png_frames_replay_in_order_equal_and_at_their_indexes(video):
    player = Player()
    player.configure(url=video, rate=float("inf"))
    player.outputs["cam"].configure(protocol="inproc", backpressure="block")
    player.initialize()
    sink = Sink(player.outputs["cam"])
    player.start()
    assert player.wait_end(20)
    wait_for(lambda: sink.index == FRAMES[-1] + 1, message="every frame replayed")
    assert [i for i, _, _ in sink.chunks] == [k + 1 for k in FRAMES]     # in order, gap kept
    got = frames_of(sink)
    assert all(np.array_equal(got[k], frame(k)) for k in FRAMES)
    player.seek(index=40)                          # back into the video, read ahead again
    player.start()
    assert player.wait_end(20)
    wait_for(lambda: len(sink.chunks) == len(FRAMES) + 20, message="frames 40-59 again")
    again = sink.chunks[len(FRAMES):]
    assert all(np.array_equal(d[0], frame(40 + j)) for j, (_, d, _) in enumerate(again))
    sink.close()
    player.close()
