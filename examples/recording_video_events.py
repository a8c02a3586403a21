"""Record camera-like frames (PNG per frame) with event markers, then browse and replay.

Two sources (video 64x48 RGB at 20 fps, events) -> Recorder with a PNG codec ->
open_recording: random access to any frame, events merged in time order ->
Player: seek to an event, pause, resume -> `acqflow rec info`.  Runs in a few seconds.
"""
import tempfile
import time

import numpy as np

import acqflow
from acqflow.devices.player import Player
from acqflow.nodes.recorder import Recorder
from acqflow.storage import open_recording
from acqflow.storage.cli import main as rec_cli

H, W, FPS, N = 48, 64, 20.0, 30
EVENT = np.dtype([("index", "int64"), ("label", "S16")])


def frame(j: int) -> np.ndarray:
    """Frame j: a moving gradient (deterministic, so the check is exact)."""
    y, x = np.mgrid[0:H, 0:W]
    return np.stack([(x * 4 + j * 8) % 256, (y * 5) % 256, np.full((H, W), j * 8 % 256)],
                    axis=-1).astype(np.uint8)


def record(path: str) -> None:
    cam = acqflow.OutputStream(name="cam")
    cam.configure(protocol="inproc", streamtype="video", shape=(-1, H, W, 3), sample_rate=FPS)
    marks = acqflow.OutputStream(name="marks")
    marks.configure(protocol="inproc", streamtype="event", dtype=EVENT.descr)
    rec = Recorder(name="rec")
    rec.configure(streams={"cam": cam, "marks": marks}, dirname=path, block_s=0.25,
                  codecs={"cam": "png"}, metadata={"subject": "demo"})
    rec.initialize()
    rec.start()
    t0 = time.monotonic()
    for j in range(N):
        cam.send(frame(j))                            # one frame (no time axis) is accepted
        if j % 10 == 5:
            marks.send(np.array([(j, f"frame {j}".encode())], EVENT))
        time.sleep(max(0.0, t0 + (j + 1) / FPS - time.monotonic()))   # camera pace
    rec.close()                                       # stop + drain + commit
    cam.close()
    marks.close()


def main() -> None:
    path = tempfile.mkdtemp() + "/video_session"
    record(path)

    rec = open_recording(path)
    cam, marks = rec["cam"], rec["marks"]
    print(rec, cam, marks, sep="\n")
    assert len(cam) == N and cam.codec["name"] == "png"
    np.testing.assert_array_equal(cam[17], frame(17))          # any frame, lossless
    events = [(name, data[0]["label"].decode()) for name, (_, data, _) in
              rec.merge(["marks"])]
    print("events:", events)
    assert [e[1] for e in events] == ["frame 5", "frame 15", "frame 25"]
    t_event = marks.time_at(1)                                 # when 'frame 15' was marked

    player = Player(name="player")
    player.configure(url=path, streams=["cam"], rate=4.0)
    player.outputs["cam"].configure(protocol="inproc")
    player.initialize()
    inp = acqflow.InputStream()
    inp.connect(player.outputs["cam"])
    player.seek(t_event)                                       # jump to the marker
    player.start()
    index, data = inp.recv(timeout=5000)
    print(f"after seek to the marker: frame {index - 1}")  # the first frame at/after it
    assert abs((index - 1) - 15) <= 1
    np.testing.assert_array_equal(data[-1], frame(index - 1))
    player.pause()
    paused_at = player.position
    player.resume()
    while index < N:
        index, data = inp.recv(timeout=5000)
    assert player.wait_end(5) and player.position >= paused_at
    print("replay ended; player state:", player.state)
    inp.close()
    player.close()

    print("\n$ acqflow rec info", path)
    assert rec_cli(["info", path]) == 0
    print("ok")


if __name__ == "__main__":
    main()
