"""`acqflow run` is not silent while it starts, and importing acqflow does not import the
heavy libraries (their cost is measured by `acqflow bench startup`, not here)."""
import os
import subprocess
import sys

import pytest
import yaml

from acqflow.manager.progress import StartupProgress

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = ("scipy", "cv2", "sounddevice", "pylsl", "brainflow", "pyqtgraph", "PyQt5", "av", "pynwb",
         "h5py", "aiohttp", "dask", "pyxdf", "pandas")


@pytest.mark.parametrize("module", ["acqflow", "acqflow.nodes", "acqflow.devices", "acqflow.manager.run"])
def test_importing_acqflow_imports_no_heavy_library(module):
    code = (f"import sys, {module}\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"import {module} imported {out.stdout.strip()}"


def test_run_prints_its_progress_before_the_first_table(tmp_path):
    graph = {"groups": {"acq": {}, "proc": {}},
             "nodes": {"gen": {"type": "SyntheticSignal", "group": "acq"},
                       "filt": {"type": "SosFilter", "group": "proc",
                                "params": {"btype": "lowpass", "freq": 10}}},
             "connections": [{"from": "gen.signals", "to": "filt.input"}]}
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(graph))
    result = subprocess.run([sys.executable, "-m", "acqflow.cli", "run", str(path), "--duration", "0.3",
                             "--interval", "0.2"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=120)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout
    steps = ["reading and checking", "spawning 2 groups side by side ('acq', 'proc')",
             "creating and configuring 2 nodes", "connecting 1 stream", "initializing nodes",
             "starting 2 nodes", "started 2 nodes in 2 processes"]
    where = [next((i for i, line in enumerate(lines) if step in line), None) for step in steps]
    assert None not in where and where == sorted(where), result.stdout
    table = next(i for i, line in enumerate(lines) if line.startswith("acqflow run: 2 nodes in 2 processes"))
    assert where[-1] < table


def test_progress_on_a_terminal_is_one_status_line(tmp_path):
    with open(tmp_path / "err", "w", newline="") as stream:
        p = StartupProgress(stream=stream, tty=True)
        p("spawning group 1 of 2")
        p("spawning group 2 of 2")
        p.done("started")
        p("late")
        p.close()
    text = (tmp_path / "err").read_bytes().decode()
    assert text == ("\r\x1b[Kacqflow run: spawning group 1 of 2...\r\x1b[Kacqflow run: spawning group 2 of 2..."
                    "\r\x1b[Kacqflow run: started\n\r\x1b[Kacqflow run: late...\n")
