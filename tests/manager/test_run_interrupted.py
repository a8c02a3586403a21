"""`acqflow run` interrupted during its start-up (Ctrl-C, SIGTERM, SIGKILL) makes no
recording, so the same graph (a fixed `dirname`, mode create) runs again right after.

The README's graph, its recorder writing to a fixed name, plus a Gate node (initialized
after the recorder) that holds the build until the test opens it: each interruption lands
at a known start-up moment, waited for as a condition."""
import os
import re
import signal
import subprocess
import sys

import psutil
import pytest
import yaml

from acqflow.storage import open_recording
from acqflow.testing import wait_for
from tests.test_examples import _readme_block

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GROUPS = 3


def _graph(tmp_path, gate: bool) -> str:
    spec = yaml.safe_load(_readme_block("yaml"))
    spec["nodes"]["rec"]["params"]["dirname"] = str(tmp_path / "rec")
    if gate:
        spec["imports"] = ["tests.manager.gatenode"]
        spec["nodes"]["zgate"] = {"type": "Gate", "group": "rec",
                                  "params": {"path": str(tmp_path / "gate")}}
        spec["connections"].append({"from": "filt.output", "to": "zgate.input"})
    path = tmp_path / ("gated.yaml" if gate else "graph.yaml")
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def _run(graph, *args):
    return subprocess.Popen([sys.executable, "-m", "acqflow.cli", "run", graph, "--interval", "0.3",
                             *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)   # its own group, as a terminal's job


def _children(proc) -> list:
    try:
        return psutil.Process(proc.pid).children()
    except psutil.NoSuchProcess:
        return []


def _preparing(tmp_path) -> bool:
    return any(".rec.creating-" in n for n in os.listdir(tmp_path))


MOMENTS = {                                        # start-up moments, as conditions
    "first group spawned": lambda proc, d: len(_children(proc)) >= 1,
    "every group spawned": lambda proc, d: len(_children(proc)) >= GROUPS,
    "recorder initialized": lambda proc, d: _preparing(d),
}
CASES = [("first group spawned", signal.SIGINT), ("every group spawned", signal.SIGTERM),
         ("recorder initialized", signal.SIGINT), ("recorder initialized", signal.SIGKILL)]


@pytest.mark.parametrize("moment, sig", CASES, ids=[f"{m.replace(' ', '-')}-{sig.name}" for m, sig in CASES])
def test_interrupted_start_up_leaves_nothing_and_the_graph_runs_again(tmp_path, moment, sig):
    proc = _run(_graph(tmp_path, gate=True))
    seen: list = []
    try:
        wait_for(lambda: MOMENTS[moment](proc, tmp_path) or proc.poll() is not None,
                 timeout=90, message=f"start-up moment: {moment}")
        assert proc.poll() is None, proc.communicate()
        seen = _children(proc)
        os.killpg(proc.pid, sig)            # what a terminal (Ctrl-C) or systemd does
        (tmp_path / "gate").touch()         # lets a held build finish
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    wait_for(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                             for p in seen), timeout=30,
             message="the group processes to end")
    what = f"{moment}, {signal.Signals(sig).name}: {out}{err}"
    assert not (tmp_path / "rec").exists(), what            # no recording made
    if sig != signal.SIGKILL:
        assert proc.returncode == 0 and "KeyboardInterrupt" not in err, what
        assert "stopping before start" in out and "none made" in out, what
        assert not _preparing(tmp_path), what
        return
    # no clean-up possible: at most a hidden skeleton, and the same graph runs again beside it
    leftovers = [n for n in os.listdir(tmp_path) if ".rec.creating-" in n]
    assert len(leftovers) <= 1, what
    for name in leftovers:
        assert not any(os.path.getsize(f.path) for f in
                       os.scandir(tmp_path / name / "segments")), what
    proc = _run(_graph(tmp_path, gate=False), "--duration", "0.5")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert re.search(rf"recording {re.escape(str(tmp_path / 'rec'))}: committed \(2 streams, "
                     rf"[1-9]\d* samples\)", out), out
    assert open_recording(tmp_path / "rec").committed


@pytest.fixture(autouse=True)
def _sockets_in_tmp(short_tmp_path, monkeypatch):
    """ipc socket files of the runs go to the test's own directory."""
    monkeypatch.setenv("TMPDIR", str(short_tmp_path))
