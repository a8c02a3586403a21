"""Host faults: a host daemon that disappears (link down, daemon killed) is noticed
within 2 s, its groups' nodes go to ``error`` with the reason, local groups keep
streaming, and once the host is back the group is restarted on its own, streams
re-connected on both sides, indexes continuing."""
import time

import pytest

from acqflow.manager import Manager
from acqflow.testing import wait_for
from tests.multihost.faultnet import rig  # noqa: F401 - fixture

pytestmark = pytest.mark.timeout(180)
DETECT_S = 2.0     # the bound, measured from the fault


def _graph(manager, link, keydir, restart=False):
    """local-src (2 sources) -> rig-relay (on the rig) -> local-sink, plus a purely
    local stream local-src.lsrc -> local-sink.chk_local."""
    groups = {}
    for name, host in (("local-src", None), ("rig-relay", "rig"), ("local-sink", None)):
        groups[name] = manager.create_nodegroup(name, host=host, restart=restart)
        groups[name].import_module("acqflow.bench.soaknodes")
    src = groups["local-src"].create_node("SoakSource", "src")
    src.configure(rate=2000, nchan=4, chunk=20)
    src.outputs["signals"].configure(protocol="tcp", interface=link.local_ip)
    src.initialize()
    lsrc = groups["local-src"].create_node("SoakSource", "lsrc")
    lsrc.configure(rate=2000, nchan=4, chunk=20)
    lsrc.outputs["signals"].configure(protocol="tcp")
    lsrc.initialize()
    relay = groups["rig-relay"].create_node("SoakRelay", "relay")
    relay.configure()
    relay.inputs["input"].connect(src.outputs["signals"].params._get_value())
    relay.outputs["output"].configure(protocol="tcp", interface=link.remote_ip)
    relay.initialize()
    for name, source in (("chk_rig", relay.outputs["output"]), ("chk_local", lsrc.outputs["signals"])):
        chk = groups["local-sink"].create_node("SoakSink", name)
        chk.configure()
        chk.inputs["input"].connect(source.params._get_value())
        chk.initialize()
    manager.start_all()
    return groups


def _samples(manager, node):
    return manager.node(node).report()["samples"]


def _flows(manager, node, more=100, timeout=15.0):
    n = _samples(manager, node)
    wait_for(lambda: _samples(manager, node) > n + more, timeout=timeout,
             message=f"{node} to receive {more} more samples")


def _check_exact(report):
    assert report["bad_chunks"] == 0, report["bad"]
    assert all(got > expected for expected, got in report["jumps"]), report["jumps"]


def _dead_within(group, t_fault):
    wait_for(lambda: group.state == "dead", timeout=DETECT_S + 0.5, interval=0.005,
             message="the lost host to be noticed")
    took = group.died_at - t_fault
    assert took < DETECT_S, f"noticed after {took:.2f} s"
    return took


def test_link_down_is_detected_local_groups_run_on_and_the_group_restarts_after(rig):
    link, daemon, keydir = rig
    with Manager(heartbeat=0.25) as manager:
        manager.add_host("rig", daemon.address, keys_dir=keydir)
        groups = _graph(manager, link, keydir)
        _flows(manager, "chk_rig")
        _flows(manager, "chk_local")
        before = manager.node("chk_rig").report()["last_index"]

        link.down()
        t_fault = time.monotonic()
        took = _dead_within(groups["rig-relay"], t_fault)
        print(f"link down noticed after {took * 1000:.0f} ms")
        assert groups["rig-relay"].reason.startswith("host rig unreachable"), groups["rig-relay"].reason
        relay = manager.stats()["groups"]["rig-relay"]["nodes"]["relay"]
        assert relay["state"] == "error" and "host rig unreachable" in relay["error"]
        assert groups["local-src"].state == groups["local-sink"].state == "running"
        _flows(manager, "chk_local")              # the rest of the graph keeps running
        with pytest.raises(ConnectionError, match="unreachable"):
            manager.restart_group("rig-relay")    # not while the host is away

        link.up()
        wait_for(lambda: groups["rig-relay"].host_reachable, timeout=60,
                 message="the rig to answer again")
        manager.restart_group("rig-relay")        # just that group, nothing else
        assert groups["rig-relay"].state == "running" and groups["rig-relay"].restarts == 1
        _flows(manager, "chk_rig", more=200)
        _flows(manager, "chk_local")
        rep = manager.node("chk_rig").report()
        assert rep["last_index"] > before + 200
        _check_exact(rep)
        _check_exact(manager.node("chk_local").report())
        assert manager.node("chk_local").report()["gaps"] == 0
        assert groups["local-src"].restarts == groups["local-sink"].restarts == 0


def test_killed_daemon_is_detected_and_the_restart_policy_brings_the_group_back(rig):
    link, daemon, keydir = rig
    with Manager(heartbeat=0.25) as manager:
        manager.add_host("rig", daemon.address, keys_dir=keydir)
        groups = _graph(manager, link, keydir, restart=True)
        _flows(manager, "chk_rig")
        before = manager.node("chk_rig").report()["last_index"]

        daemon.kill()                              # its children die with it
        t_fault = time.monotonic()
        took = _dead_within(groups["rig-relay"], t_fault)
        print(f"killed daemon noticed after {took * 1000:.0f} ms")
        assert "host rig unreachable" in groups["rig-relay"].reason
        _flows(manager, "chk_local")

        daemon.start(port=daemon.address.rsplit(":", 1)[1])   # same address again
        wait_for(lambda: groups["rig-relay"].restarts == 1 and groups["rig-relay"].state == "running",
                 timeout=60, message="the restart policy to rebuild the group on the rig")
        _flows(manager, "chk_rig", more=200)
        rep = manager.node("chk_rig").report()
        assert rep["last_index"] > before + 200
        _check_exact(rep)
        causes = {g[2] for g in rep["gap_log"]}
        assert causes <= {"disconnected", "source", "dropped"}, rep["gap_log"]


def test_group_process_killed_on_a_reachable_host_reports_its_exit(rig):
    link, daemon, keydir = rig
    with Manager(heartbeat=0.25) as manager:
        manager.add_host("rig", daemon.address, keys_dir=keydir)
        groups = _graph(manager, link, keydir)
        _flows(manager, "chk_rig")
        rig_os = groups["rig-relay"].spawner.client._import("os")
        rig_os.kill(rig_os.getpid(), 9, _sync="off")
        t_fault = time.monotonic()
        _dead_within(groups["rig-relay"], t_fault)
        assert groups["rig-relay"].reason == "killed by SIGKILL on host rig"
        assert groups["rig-relay"].host_reachable


def test_restarted_processing_node_gets_its_output_params_from_its_input():
    # regression: rebuild configured outputs before connecting inputs, so a restarted
    # ProcessingNode (output dtype derived from its input) sent int64 on a float32
    # output and went to error
    with Manager(heartbeat=0.25, restart=True) as manager:
        groups = {}
        for name in ("src", "relay", "sink"):
            groups[name] = manager.create_nodegroup(name)
            groups[name].import_module("acqflow.bench.soaknodes")
        src = groups["src"].create_node("SoakSource", "src")
        src.configure(rate=2000, nchan=4, chunk=20)
        src.outputs["signals"].configure(protocol="tcp")
        src.initialize()
        relay = groups["relay"].create_node("SoakRelay", "relay")
        relay.configure()
        relay.inputs["input"].connect(src.outputs["signals"])
        relay.outputs["output"].configure(protocol="tcp")
        relay.initialize()
        chk = groups["sink"].create_node("SoakSink", "chk_rig")
        chk.configure()
        chk.inputs["input"].connect(relay.outputs["output"])
        chk.initialize()
        manager.start_all()
        _flows(manager, "chk_rig")
        groups["relay"].spawner.kill()
        wait_for(lambda: groups["relay"].restarts == 1 and groups["relay"].state == "running",
                 timeout=30, message="the relay group to be restarted")
        _flows(manager, "chk_rig", more=200)
        assert manager.stats()["groups"]["relay"]["nodes"]["relay"]["state"] == "running"
        _check_exact(manager.node("chk_rig").report())
