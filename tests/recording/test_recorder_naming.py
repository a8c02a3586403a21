"""Recordings named per run (``dirname: rec-{time}``): a rerun never collides, the name is
decided once per run (a rebuilt recorder group keeps it), and a Recorder's recording
appears only when it starts (a start-up killed before leaves none at its name)."""
import os
import re
import signal

import numpy as np
import pytest
import yaml

from acqflow import OutputStream
from acqflow.dataflow.graph import GraphSpec
from acqflow.manager.build import build_graph
from acqflow.manager.manager import Manager
from acqflow.nodes import Recorder
from acqflow.nodes.recorder import expand_dirname
from acqflow.rpc.proxy import get_value
from acqflow.storage import open_recording
from acqflow.testing import wait_for

SIG = dict(dtype="float32", shape=(-1, 2), sample_rate=100.0)


def test_placeholders(tmp_path):
    p = expand_dirname(tmp_path / "rec-{time}", "r1")
    assert re.fullmatch(r"rec-\d{8}-\d{6}", p.name)
    assert expand_dirname(tmp_path / "{date}" / "s-{run}", "r1").name == "s-r1"
    assert expand_dirname(tmp_path / "exp{n}", "r1").name == "exp1"
    (tmp_path / "exp1").mkdir()
    (tmp_path / "exp2").mkdir()
    assert expand_dirname(tmp_path / "exp{n}", "r1").name == "exp3"       # LabRecorder's %n
    (tmp_path / "s-r1").mkdir()
    assert expand_dirname(tmp_path / "s-{run}", "r1").name == "s-r1-2"    # never an existing one
    assert expand_dirname(tmp_path / "s-{run}", "r1", "append").name == "s-r1"
    assert expand_dirname(tmp_path / "plain", "r1") == tmp_path / "plain"
    with pytest.raises(ValueError, match=r"unknown placeholder '\{when\}'; use \{time\}"):
        expand_dirname("rec-{when}", "r1")
    with pytest.raises(ValueError, match="Single '}'"):
        expand_dirname("rec}", "r1")
    with pytest.raises(ValueError, match="rec-{time:03d}"):
        expand_dirname("rec-{time:03d}", "r1")
    assert expand_dirname(tmp_path / "r{n:03d}", "r1").name == "r001"


def test_check_names_an_unknown_placeholder(tmp_path, capsys):
    from acqflow.manager.run import main
    graph = tmp_path / "g.yaml"
    graph.write_text(yaml.safe_dump({"nodes": {"gen": {"type": "SyntheticSignal"},
                                               "rec": {"type": "Recorder", "params": {
        "dirname": str(tmp_path / "rec-{when}"), "streams": ["sig"]}}},
        "connections": [{"from": "gen.signals", "to": "rec.sig"}]}))   # --check wants 'sig' fed
    assert main([str(graph), "--check"]) == 2
    err = capsys.readouterr().err
    assert "params.dirname: dirname" in err and "unknown placeholder '{when}'" in err
    graph.write_text(graph.read_text().replace("{when}", "{time}"))
    assert main([str(graph), "--check"]) == 0


def _recorder(dirname, **kw):
    out = OutputStream(name="sig")
    out.configure(protocol="inproc", **SIG)
    rec = Recorder(name="rec")
    rec.configure(streams={"sig": out}, dirname=dirname, **kw)
    return rec, out


def test_recorder_fills_the_name_once_and_keeps_it_in_its_config(tmp_path):
    paths = []
    for _ in range(2):                     # a rerun of the same graph: a new name
        rec, out = _recorder(str(tmp_path / "rec-{time}"))
        assert rec.config["dirname"] == str(rec.path) and "{" not in rec.config["dirname"]
        rec.initialize()
        assert not rec.path.exists()       # appears at start(), not before
        rec.start()
        assert rec.path.exists()
        out.send(np.zeros((10, 2), "float32"))
        wait_for(lambda: rec.stats()["writer"]["streams"]["sig"]["chunks"] == 1)
        rec.stop()
        rec.close()
        out.close()
        paths.append(rec.path)
    assert paths[0] != paths[1]
    assert [open_recording(p).committed for p in paths] == [True, True]
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in paths)   # nothing else


def test_recorder_closed_before_start_leaves_nothing(tmp_path):
    rec, out = _recorder(str(tmp_path / "rec"))
    rec.initialize()
    assert [n for n in os.listdir(tmp_path) if ".creating-" in n]     # being prepared beside
    rec.close()
    out.close()
    assert os.listdir(tmp_path) == []


def _graph(dirname) -> GraphSpec:
    return GraphSpec.from_dict({
        "imports": ["tests.manager.testnodes"],
        "groups": {"acq": {}, "rec": {"restart": True}},
        "nodes": {
            "src": {"type": "Ramp", "group": "acq", "params": {"rate": 1000, "chunk": 10}},
            "recorder": {"type": "Recorder", "group": "rec",
                         "params": {"streams": ["sig"], "dirname": dirname, "block_s": 0.02}},
        },
        "connections": [{"from": "src.signals", "to": "recorder.sig"}],
    }, source="naming.yaml")


def test_the_name_survives_restarts_of_the_recorder_group(tmp_path):
    """Killed before it started (its recording still beside its name) and after: one
    recording, under the name chosen at the first build, nothing else left."""
    with Manager(heartbeat=0.2) as manager:
        build_graph(_graph(str(tmp_path / "rec-{time}")), manager)
        group = manager.groups["rec"]
        path = get_value(manager.node("recorder").config)["dirname"]
        assert path.startswith(str(tmp_path / "rec-")) and not os.path.exists(path)
        manager.refresh()
        for k in range(2):
            os.kill(group.pid, signal.SIGKILL)
            wait_for(lambda: group.restarts == k + 1 and group.state == "running"
                     and get_value(manager.node("recorder").state) != "error", timeout=30,
                     message=f"restart {k + 1} of the recorder group")
            assert get_value(manager.node("recorder").config)["dirname"] == path
            if k == 0:
                assert not os.path.exists(path)
                manager.start_all()
                wait_for(lambda: os.path.exists(path) and open_recording(path)["sig"].n_samples,
                         timeout=20, message="samples sealed in the recording")
        wait_for(lambda: get_value(manager.node("recorder").state) == "running", timeout=20)
        wait_for(lambda: open_recording(path)["sig"].n_samples, timeout=20)
    rec = open_recording(path)
    assert rec.committed and len(rec["sig"].gaps) <= 1
    assert os.listdir(tmp_path) == [os.path.basename(path)]
