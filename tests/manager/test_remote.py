"""Node groups placed on a host daemon (`acqflow host`), here on loopback."""
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from acqflow import InputStream
from acqflow.manager import Manager
from acqflow.testing import wait_for

pytestmark = pytest.mark.timeout(120)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def host_daemon():
    proc = subprocess.Popen([sys.executable, "-m", "acqflow.commands", "host"],      # private ipc
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert "listening on" in line, line
    yield line.split("listening on ")[1].split()[0]
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)


def test_group_on_a_host_daemon_streams_and_its_death_is_noticed(host_daemon):
    with Manager(heartbeat=0.25) as manager:
        manager.add_host("rig", host_daemon)
        remote = manager.create_nodegroup("rig-acq", host="rig")
        remote.import_module("tests.manager.testnodes")
        src = remote.create_node("Ramp", "src")
        src.configure(rate=2000, chunk=20)
        src.outputs["signals"].configure()          # ipc by default, across processes
        src.initialize()
        sink = InputStream()
        sink.connect(src.outputs["signals"])
        manager.start_all()
        index, data = sink.recv(timeout=10000)
        assert np.array(data)[:, 0].tolist() == list(range(index - len(data), index))
        assert remote.pid != os.getpid()
        os.kill(remote.pid, signal.SIGKILL)          # same machine here, so we can
        wait_for(lambda: remote.state == "dead", timeout=30, message="the remote death to be noticed")
        assert "SIGKILL" in remote.reason
        sink.close()


def test_a_graph_reaches_a_local_daemon_by_its_ipc_address(host_daemon):
    """hosts: {here: ipc://...}: the group runs under the daemon, on this machine, so its
    stream to a local group is private ipc, not tcp."""
    from acqflow.dataflow.graph.graphspec import GraphSpec
    from acqflow.manager.build import build_graph
    assert host_daemon.startswith("ipc://")
    spec = GraphSpec.from_dict({
        "hosts": {"here": host_daemon},
        "imports": ["tests.manager.testnodes"],
        "groups": {"acq": {"host": "here"}, "proc": {}},
        "nodes": {"src": {"type": "Ramp", "group": "acq", "params": {"rate": 2000, "chunk": 20}},
                  "gain": {"type": "TestGain", "group": "proc"}},
        "connections": [{"from": "src.signals", "to": "gain.input"}],
    })
    with Manager(heartbeat=0.25) as manager:
        build_graph(spec, manager)
        params = manager.output_params("src", "signals")
        assert params["protocol"] == "ipc" and params["url"].startswith("ipc://")
        sink = InputStream()
        sink.connect(manager.output_params("gain", "output"))
        manager.start_all()
        index, data = sink.recv(timeout=10000)
        assert np.array(data)[:, 0].tolist() == [2.0 * i for i in range(index - len(data), index)]
        assert manager.groups["acq"].pid != os.getpid()
        sink.close()
