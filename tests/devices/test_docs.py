"""Every python snippet of docs/devices.md and docs/devices/*.md runs as written (in a fresh process)."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tests.devices.test_audio import alsa_home
from tests.devices.test_camera import frame_for
from tests.docsnippets import ROOT, python_snippets, source

PAGES = [ROOT / "docs" / "devices.md"] + sorted((ROOT / "docs" / "devices").glob("*.md"))
SNIPPETS = [source(s) for page in PAGES for s in python_snippets(page)]


def test_every_device_has_a_page_with_a_snippet_and_an_example():
    assert len(SNIPPETS) == 7
    for page in PAGES[1:]:
        text = page.read_text()
        assert "```python" in text, page
        for example in re.findall(r"\(\.\./\.\./(examples/\w+\.py)\)", text):
            assert (ROOT / example).exists(), example


@pytest.mark.parametrize("code", SNIPPETS, ids=lambda c: c.splitlines()[2][:40])
def test_snippet_runs(code, tmp_path):
    if "Camera" in code:
        cv2 = pytest.importorskip("cv2")
        w = cv2.VideoWriter(str(tmp_path / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (64, 48))
        for k in range(5):
            w.write(frame_for(k))
        w.release()
    home = alsa_home(tmp_path, np.zeros((16000, 1), "int16"))
    env = dict(os.environ, HOME=str(home), PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr[-3000:]
