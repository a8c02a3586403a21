"""Record camera-like frames (PNG per frame) with event markers, then browse and replay.

Two sources (video 64x48 RGB at 20 fps, events) -> Recorder with a PNG codec ->
open_recording: random access to any frame, events merged in time order ->
Player: seek to an event, pause, resume -> `acqflow rec info`.  Runs in a few seconds.
Run: python examples/recording_video_events.py
"""
import tempfile
import time

import numpy as np

import acqflow
from acqflow.devices.player import Player
from acqflow.interrupt import quiet_interrupt
from acqflow.nodes.recorder import Recorder
from acqflow.storage import open_recording
from acqflow.commands.rec import main as rec_cli

H, W, FPS, N = 48, 64, 20.0, 30
EVENT = np.dtype([("index", "int64"), ("label", "S16")])


def frame(j: int) -> np.ndarray:
    """Frame j: a moving gradient (the same every time, so a read-back frame can be compared)."""
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
    print(f"{len(cam)} frames, codec {cam.codec['name']!r}")
    print("frame 17 read back equal to the one sent:", np.array_equal(cam[17], frame(17)))  # lossless
    events = [(name, data[0]["label"].decode()) for name, (_, data, _) in
              rec.merge(["marks"])]
    print("events:", events)
    t_event = marks.time_at(1)                                 # when 'frame 15' was marked
    start = cam.time_range[0]

    player = Player(name="player")
    player.configure(url=path, streams=["cam"], rate=4.0)
    player.outputs["cam"].configure(protocol="inproc")
    player.initialize()
    inp = acqflow.InputStream()
    inp.connect(player.outputs["cam"])
    player.seek(t_event)                                       # jump to the marker
    player.start()
    index, data = inp.recv(timeout=5000)
    print(f"after seek to the marker: frame {index - 1}, "      # the first frame at/after it
          f"equal to the one recorded: {np.array_equal(data[-1], frame(index - 1))}")
    player.pause()
    print(f"paused {player.position - start:.2f} s into the recording")
    player.resume()
    while index < N:
        index, data = inp.recv(timeout=5000)
    player.wait_end(5)
    print(f"replay ended {player.position - start:.2f} s into the recording; "
          f"player state: {player.state}")
    inp.close()
    player.close()

    print("\n$ acqflow rec info", path)
    rec_cli(["info", path])


if __name__ == "__main__":
    quiet_interrupt()                           # Ctrl-C: 'interrupted', no traceback
    main()
