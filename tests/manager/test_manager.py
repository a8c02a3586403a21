"""Manager: groups in their own processes, liveness, restart."""
import logging
import os
import signal

import numpy as np
import pytest

from acqflow import InputStream
from acqflow.manager import Manager
from acqflow.testing import wait_for

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def manager():
    m = Manager(heartbeat=0.25)
    yield m
    m.close()


def build(manager):
    acq = manager.create_nodegroup("acq")
    proc = manager.create_nodegroup("proc")
    for group in (acq, proc):
        group.import_module("tests.manager.testnodes")
    src = acq.create_node("Ramp", "src")
    src.configure(rate=2000, chunk=20)
    src.outputs["signals"].configure(protocol="tcp")
    gain = proc.create_node("TestGain", "gain")
    gain.configure(gain=2.0)
    gain.input.connect(src.outputs["signals"])
    gain.output.configure(protocol="tcp")
    src.initialize()
    gain.initialize()
    sink = InputStream(name="sink")
    sink.connect(gain.output)
    return acq, proc, sink


def receive_until(sink, index):
    chunks = []
    while True:
        i, data = sink.recv(timeout=10000)
        chunks.append((i, np.array(data)))
        if i >= index:
            return chunks


def check_doubled_ramp(chunks):
    for i, data in chunks:
        expected = 2 * np.arange(i - len(data), i, dtype="float32")
        assert data[:, 0].tolist() == expected.tolist() and data[:, 1].tolist() == (-expected).tolist()


def test_graph_across_two_processes(manager):
    acq, proc, sink = build(manager)
    assert manager.list_nodes() == ["src", "gain"] and manager.list_nodegroups() == ["acq", "proc"]
    assert acq.pid != proc.pid != os.getpid()
    manager.start_all()
    check_doubled_ramp(receive_until(sink, 400))
    assert (sink.gaps, sink.dropped) == (0, 0)
    manager.refresh()
    assert manager.connections() == [("src", "signals", "gain", "input")]
    assert manager.order() == ["src", "gain"]
    stats = manager.stats()
    nodes = {**stats["groups"]["acq"]["nodes"], **stats["groups"]["proc"]["nodes"]}
    assert nodes["src"]["state"] == nodes["gain"]["state"] == "running"
    assert nodes["src"]["cpu_s"] is not None and nodes["gain"]["inputs"]["input"]["samples"] >= 400
    manager.stop_all()
    assert manager.node("gain").state._get_value() == "stopped"
    with pytest.raises(ValueError, match="node named 'src' already exists"):
        proc.create_node("TestGain", "src")
    sink.close()


def test_dead_group_is_noticed_and_others_keep_running(manager, caplog):
    acq, proc, sink = build(manager)
    manager.start_all()
    receive_until(sink, 100)
    deaths = []
    manager.on_group_death.append(lambda name, reason: deaths.append((name, reason)))
    caplog.set_level(logging.ERROR, logger="acqflow.manager")
    os.kill(acq.pid, signal.SIGKILL)
    # (how soon is the poll interval's business, not a timing assertion's: a loaded machine
    # may take longer; the guard only keeps a broken notice from hanging the suite)
    wait_for(lambda: acq.state == "dead", timeout=30.0, message="the manager to notice the death")
    assert deaths == [("acq", "killed by SIGKILL")]
    assert any("node group 'acq'" in r.message and "killed by SIGKILL" in r.message and "src" in r.message
               for r in caplog.records)
    stats = manager.stats()
    assert stats["groups"]["acq"]["state"] == "dead"
    assert stats["groups"]["acq"]["nodes"]["src"]["state"] == "error"
    assert "killed by SIGKILL" in stats["groups"]["acq"]["nodes"]["src"]["error"]
    assert proc.spawner.alive and stats["groups"]["proc"]["nodes"]["gain"]["state"] == "running"
    sink.close()


def test_restart_policy_recreates_and_reconnects(caplog):
    caplog.set_level(logging.WARNING, logger="acqflow.manager")
    with Manager(heartbeat=0.25, restart=True) as manager:
        acq, proc, sink = build(manager)
        manager.start_all()
        before = receive_until(sink, 200)
        old_pid = acq.pid
        os.kill(acq.pid, signal.SIGKILL)
        wait_for(lambda: acq.restarts == 1 and acq.state == "running", timeout=30,
                 message="the group to be restarted")
        assert acq.pid != old_pid
        assert manager.node("src").state._get_value() == "running"
        # data flows again, indexes never go back, values still right
        last = before[-1][0]
        after = []
        while not after or after[-1][0] < last + 400:
            after.append(receive_until(sink, 0)[0])
        assert all(i > last for i, _ in after)
        check_doubled_ramp(after)
        assert any("restarted" in r.message for r in caplog.records)
        sink.close()


def test_groups_spawned_side_by_side_are_all_cleaned_up_if_one_fails(manager, monkeypatch):
    monkeypatch.setenv("ACQFLOW_CHILD_IMPORTS", "")
    groups = manager.create_nodegroups([{"name": "a"}, {"name": "b", "preload": ["tests.manager.testnodes"]}])
    assert [g.state for g in groups] == ["running", "running"]
    assert "tests.manager.testnodes" in groups[1].spawner.client.import_module("sys").modules.keys()
    with pytest.raises(ValueError, match="'a' already exists"):
        manager.create_nodegroups([{"name": "c"}, {"name": "a"}])
    assert manager.list_nodegroups() == ["a", "b"]
    pids = []
    original = manager.groups["a"].spawner.__class__.__init__

    def failing_second(self, *args, **kwargs):
        if kwargs.get("name") == "bad":
            kwargs["imports"] = ["tests.manager.no_such_module"]
        original(self, *args, **kwargs)
        pids.append(self.proc)
    monkeypatch.setattr(manager.groups["a"].spawner.__class__, "__init__", failing_second)
    with pytest.raises(Exception, match="no_such_module"):
        manager.create_nodegroups([{"name": "good"}, {"name": "bad"}])
    assert manager.list_nodegroups() == ["a", "b"]
    assert all(proc.poll() is not None for proc in pids)    # the good one is not left behind
