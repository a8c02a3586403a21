"""SIGKILL a recorder of lossless H.264 in another process at 20 seeded random moments:
the recording opens, intact, and every stored frame decodes to the frame sent."""
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from acqflow.storage import open_recording
from acqflow.testing import wait_for
from tests.storage.sigkill import ROOT, LineProcess
from tests.storage.videopk import pattern

pytest.importorskip("av")
N_KILLS = 20


class ForkServer(LineProcess):
    """tests/recording/video_recorder_proc.py: forks a recorder process per round (the
    imports are paid once)."""

    def __init__(self):
        import selectors
        self.module = "tests.recording.video_recorder_proc"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.recording.video_recorder_proc"], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._buf = b""
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)

    def start(self, path, block_s) -> int:
        """Fork a recorder of ``path``; returns its pid."""
        self.proc.stdin.write(f"{path} {block_s}\n".encode())
        self.proc.stdin.flush()
        line = self.line()
        while not line.startswith("pid "):    # what the killed recorder wrote last
            line = self.line()
        return int(line.split()[1])


def test_sigkill_at_random_moments_every_sealed_frame_decodes(tmp_path):
    rng = random.Random(25)
    frames = np.stack([pattern(i) for i in range(64)])
    w = ForkServer()
    try:
        kept = [check_round(w, rng, tmp_path / f"rec{round_no}", frames)
                for round_no in range(N_KILLS)]
    finally:
        w.kill()
    assert sum(n > 0 for n in kept) >= N_KILLS // 2, kept       # the test tested something


def check_round(w, rng, path, frames) -> int:
    """Start a recorder, kill it at a random moment, check what it left; returns the
    number of frames it kept."""
    pid = w.start(path, rng.choice([0.02, 0.05, 0.1]))
    assert w.line() == "ready"
    sealed = 0
    for _ in range(rng.randint(0, 4)):
        sealed = int(w.line().split()[1])
    time.sleep(rng.uniform(0, 0.05))      # a random moment (not a synchronisation)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: _gone(pid), timeout=10, message=f"recorder {pid} killed")
    if not os.path.exists(path):        # killed before the recording was published
        assert sealed == 0
        return 0
    rec = open_recording(path)
    assert not rec.committed and rec.intact, rec.damage
    cam = rec["cam"]
    assert cam.stop_index >= sealed
    if not len(cam):
        return 0
    assert cam.first_index == 0 and not cam.gaps
    got = cam[:]
    np.testing.assert_array_equal(got, frames[np.arange(len(cam)) % 64])
    assert open_recording(path, verify=True).intact
    return len(cam)


def _gone(pid: int) -> bool:
    """True once process ``pid`` is dead (a zombie counts: it runs nothing)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True
