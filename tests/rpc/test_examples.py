"""Each examples/rpc_*.py runs as it is."""
import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "rpc_*.py")))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", EXAMPLES, ids=[os.path.basename(p) for p in EXAMPLES])
def test_example_runs(path):
    out = subprocess.run([sys.executable, path], capture_output=True, text=True, timeout=100,
                         cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "exit code: 0" in out.stdout or "received 3 samples" in out.stdout
