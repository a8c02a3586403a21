"""SIGKILL a recorder of lossless H.264 in another process at 20 seeded random moments:
the recording opens, intact, and every stored frame decodes to the frame sent."""
import os
import random
import subprocess
import sys
import time

import numpy as np
import pytest

from acqflow.storage import open_recording
from tests.recording.test_crash import ROOT, RecorderProcess
from tests.storage.videopk import pattern

pytest.importorskip("av")
N_KILLS = 20


class VideoRecorderProcess(RecorderProcess):
    """tests/recording/video_recorder_proc.py in a child process."""

    def __init__(self, path, block_s):
        import selectors
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.recording.video_recorder_proc", str(path),
             str(block_s)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._buf = b""
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)


def test_sigkill_at_random_moments_every_sealed_frame_decodes(tmp_path):
    rng = random.Random(25)
    frames = np.stack([pattern(i) for i in range(64)])
    for round_no in range(N_KILLS):
        path = tmp_path / f"rec{round_no}"
        w = VideoRecorderProcess(path, rng.choice([0.02, 0.05, 0.1]))
        assert w.line() == "ready"
        sealed = 0
        for _ in range(rng.randint(0, 4)):
            sealed = int(w.line().split()[1])
        time.sleep(rng.uniform(0, 0.05))      # a random moment (not a synchronisation)
        w.kill()
        if not os.path.exists(path):        # killed before the recording was published
            assert sealed == 0
            continue
        rec = open_recording(path)
        assert not rec.committed and rec.intact, rec.damage
        cam = rec["cam"]
        assert cam.stop_index >= sealed
        if not len(cam):
            continue
        assert cam.first_index == 0 and not cam.gaps
        got = cam[:]
        np.testing.assert_array_equal(got, frames[np.arange(len(cam)) % 64])
        assert open_recording(path, verify=True).intact
