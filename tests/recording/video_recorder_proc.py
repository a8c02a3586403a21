"""A video source -> Recorder (lossless H.264) in its own process, fed frames until killed.

``python -m tests.recording.video_recorder_proc`` is a fork server: its modules are
imported once; each line ``PATH BLOCK_S`` on its stdin forks a recorder process, which
prints ``pid <pid>``, ``ready`` once recording, then ``sealed <cam sealed stop>`` per
sealed block.  Frames are tests.storage.videopk.pattern(i) at index i (small, so the
encoder keeps up).
"""
import os
import sys
import time

from acqflow import OutputStream
from acqflow.nodes.recorder import Recorder
from tests.storage.videopk import H, W, pattern


def record(path: str, block_s: float) -> None:
    """Record until killed (in a forked child)."""
    cam = OutputStream(name="cam")
    cam.configure(protocol="inproc", streamtype="video", shape=(-1, H, W, 3),
                  sample_rate=60.0, backpressure="block")
    rec = Recorder(name="rec")

    def on_seal(info):
        st = rec.writer.stats()["streams"]["cam"]
        sys.stdout.write(f"sealed {st['sealed_stop']}\n")
        sys.stdout.flush()

    rec.configure(streams={"cam": cam}, dirname=path, block_s=block_s, fsync="none",
                  codecs={"cam": {"name": "h264", "lossless": True, "gop": 8}},
                  on_seal=on_seal)
    rec.initialize()
    rec.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    frames = [pattern(i) for i in range(64)]
    i = 0
    while True:
        cam.send(frames[i % 64][None], index=i + 1)
        i += 1
        time.sleep(1 / 120)


def main() -> None:
    """Fork one recorder per command line; reap the killed ones."""
    for line in sys.stdin:
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        path, block_s = line.split()
        pid = os.fork()
        if pid == 0:
            sys.stdout.write(f"pid {os.getpid()}\n")
            sys.stdout.flush()
            try:
                record(path, float(block_s))
            finally:
                os._exit(1)


if __name__ == "__main__":
    main()
