"""Every python snippet of docs/devices.md and docs/devices/*.md runs as written (in a fresh process)."""
import glob
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tests.devices.test_audio import alsa_home
from tests.devices.test_camera import frame_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGES = [os.path.join(ROOT, "docs", "devices.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "devices", "*.md")))
DOC = "\n".join(open(p).read() for p in PAGES)
SNIPPETS = re.findall(r"```python\n(.*?)```", DOC, re.S)


def test_every_device_has_a_page_with_a_snippet_and_an_example():
    assert len(SNIPPETS) == 7
    for page in PAGES[1:]:
        text = open(page).read()
        assert "```python" in text, page
        for example in re.findall(r"\(\.\./\.\./(examples/\w+\.py)\)", text):
            assert os.path.exists(os.path.join(ROOT, example)), example


@pytest.mark.parametrize("code", SNIPPETS, ids=lambda c: c.splitlines()[2][:40])
def test_snippet_runs(code, tmp_path):
    if "Camera" in code:
        cv2 = pytest.importorskip("cv2")
        w = cv2.VideoWriter(str(tmp_path / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (64, 48))
        for k in range(5):
            w.write(frame_for(k))
        w.release()
    home = alsa_home(tmp_path, np.zeros((16000, 1), "int16"))
    env = dict(os.environ, HOME=str(home), PYTHONPATH=ROOT)
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr[-3000:]
