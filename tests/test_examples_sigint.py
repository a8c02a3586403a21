"""Ctrl-C ends every example cleanly: no traceback, an exit within a bound, no segment left.

Each example runs as a user runs it (its own process group, as a terminal's foreground
job; Qt ones offscreen; the audio one on ALSA's file plugin as in tests/test_examples.py).
Once it has printed its first line (it runs) the whole group gets SIGINT, as Ctrl-C
sends it; it must end by itself, printing at most ``interrupted``.
"""
import glob
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

from acqflow.testing import wait_for
from tests.test_examples import EXAMPLES, ROOT

BOUND = 10.0          # s: a hang guard (measured: 0.0-1.4 s), not a timing assertion
NEEDS = {"devices_lsl.py": "pylsl", "devices_camera.py": "cv2", "nodes_video.py": "cv2",
         "two_cameras_eeg.py": "cv2",
         "devices_audio.py": "sounddevice", "viewers_panel.py": "pyqtgraph",
         "viewers_qt_group.py": "pyqtgraph"}


def example_env(name: str, tmp_path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=ROOT)
    if name == "devices_audio.py":           # a 'microphone' playing a tone (ALSA file plugin)
        from tests.devices.test_audio import alsa_home
        tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(32000) / 16000)).astype("int16")
        env["HOME"] = str(alsa_home(tmp_path, tone))
    return env


@pytest.mark.parametrize("path", EXAMPLES, ids=os.path.basename)
def test_ctrl_c_ends_the_example_cleanly(path, tmp_path):
    name = os.path.basename(path)
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    proc = subprocess.Popen([sys.executable, path], cwd=ROOT, env=example_env(name, tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        wait_for(lambda: lines or proc.poll() is not None, timeout=120,
                 message=f"{name} to print its first line")
        try:
            os.killpg(proc.pid, signal.SIGINT)           # Ctrl-C: the whole foreground group
        except ProcessLookupError:
            pass                                         # it had already ended
        try:
            proc.wait(BOUND)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name} still runs {BOUND} s after Ctrl-C")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        reader.join(10)
        err = proc.stderr.read()
        proc.stderr.close()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    ok = (0, -signal.SIGINT)
    assert proc.returncode in ok, (proc.returncode, err[-3000:])
    wait_for(lambda: not glob.glob(f"/dev/shm/acqflow_{proc.pid}_*"), timeout=15,
             message=f"{name}'s shared memory to be unlinked")
