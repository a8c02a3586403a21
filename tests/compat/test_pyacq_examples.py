"""pyacq's examples (its examples/ folder) that need no hardware, run as written.

The files in tests/compat/pyacq_verbatim/examples are pyacq's, unchanged.  Each runs in a
fresh interpreter that finds ``pyacq`` only through the ``.pth`` of ``acqflow compat
install-pyacq`` (in a temporary site directory, as a user's environment would have it), with
offscreen Qt, through tests/compat/pyacq_example_runner.py (the Qt loop an interactive
session would run, for a few seconds).  The examples left out need hardware or something
acqflow does not provide; docs/pyacq.md lists them with the reason.
"""
import os
import subprocess
import sys

import pytest

from acqflow.compat.pth import install_pth

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "tests", "compat", "pyacq_verbatim", "examples")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("pyacq-examples")
    site, path_dir = root / "site", root / "path"
    site.mkdir()
    path_dir.mkdir()
    install_pth(str(site))
    (path_dir / "sitecustomize.py").write_text(f"import site\nsite.addsitedir({str(site)!r})\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("ACQFLOW_PYACQ_COMPAT", "ACQFLOW_CHILD_IMPORTS")}
    return dict(env, PYTHONPATH=os.pathsep.join([str(path_dir), ROOT]), QT_QPA_PLATFORM="offscreen")


def run(env, name: str, seconds: float, report: str) -> str:
    cmd = [sys.executable, "-m", "tests.compat.pyacq_example_runner",
           os.path.join(EXAMPLES, name), str(seconds), report]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


def test_every_example_here_has_its_test():
    names = {n[:-3] for n in os.listdir(EXAMPLES) if n.endswith(".py")}
    assert names and all(f"test_{n}" in globals() for n in names), sorted(names)


def test_noise_generator(env):
    out = run(env, "noise_generator.py", 3, "(ng.head, osc.frames > 0, ng.output.params['transfermode'])")
    head, drew, mode = eval(out.split("report:")[1])
    assert head >= 1000 and drew and mode == "sharedmem"     # 1 s of samples at least, drawn


def test_simple_input_node(env):
    out = run(env, "simple_input_node.py", 3, "mon.running()")
    assert "report: True" in out
    lines = [line for line in out.splitlines() if line.startswith("Data received:")]
    assert len(lines) >= 2, out
    assert all(line.split()[3:] == ["(50,", "7)", "float64"] for line in lines), lines
    assert [int(line.split()[2]) for line in lines[:2]] == [50, 100]
