"""The "Adding an RPC type" example of docs/extending.md runs as written."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _section_snippet() -> str:
    doc = open(os.path.join(ROOT, "docs", "extending.md")).read()
    section = doc.split("## Adding an RPC type", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)[0]


def test_adding_an_rpc_type_example_runs():
    res = subprocess.run([sys.executable, "-c", _section_snippet()], cwd=ROOT,
                         capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=ROOT))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    assert res.stdout.splitlines() == [
        """b'{"__type__":"fraction","numerator":1,"denominator":3}'""", "3/4"]
