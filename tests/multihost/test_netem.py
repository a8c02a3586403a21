"""Streams over a shaped link (tc netem: latency, loss, rate) between two namespaces.

ZeroMQ streams run over TCP, so a lost packet is retransmitted, never lost to
the application: what a bad link does is slow delivery down.  With
``backpressure='drop'`` the sender's queue overflows and whole chunks are
dropped, which the input reports (``gaps``/``dropped``/``gap_log``), while every
value that does arrive is exact and the graph keeps running.  With
``backpressure='block'`` the sender waits instead: nothing is lost, only delayed.
"""
import shutil
import subprocess
import time

import pytest

from acqflow.manager import Manager
from acqflow.testing import wait_for
from tests.multihost.faultnet import rig  # noqa: F401 - fixture

pytestmark = pytest.mark.timeout(180)
DELAY_S = 0.02
SHAPES = {
    # latency with jitter, random loss and a 1 MB/s rate
    "netem": ("netem", "delay", f"{int(DELAY_S * 1000)}ms", "5ms", "loss", "2%", "rate", "8mbit"),
    # where the kernel has no netem: the same rate with a 50 ms queue (token bucket)
    "tbf": ("tbf", "rate", "8mbit", "burst", "32kbit", "latency", "50ms"),
}


@pytest.fixture(params=list(SHAPES))
def shaped(request, rig):
    """The rig with its link shaped by netem, or by tbf (rate only)."""
    link = rig[0]
    if shutil.which("tc") is None:
        pytest.skip("needs `tc` (iproute2) to shape the link")
    try:
        link.shape(*SHAPES[request.param])
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"{request.param} qdisc not available in this kernel: {exc.stderr.strip()}")
    return (*rig, request.param)


def _stream(manager, link, daemon, keydir, backpressure, rate, hwm=None):
    """A source on the rig streaming to a checking sink here."""
    manager.add_host("rig", daemon.address, keys_dir=keydir)
    remote = manager.create_nodegroup("rig-src", host="rig")
    local = manager.create_nodegroup("local-sink")
    for g in (remote, local):
        g.import_module("acqflow.bench.soaknodes")
    src = remote.create_node("SoakSource", "src")
    src.configure(rate=rate, nchan=16, chunk=256)            # 32 KiB chunks
    out = dict(protocol="tcp", interface=link.remote_ip, backpressure=backpressure)
    if hwm is not None:
        out["hwm"] = hwm
    src.outputs["signals"].configure(**out)
    src.initialize()
    chk = local.create_node("SoakSink", "chk")
    chk.configure()
    chk.inputs["input"].connect(src.outputs["signals"].params._get_value())
    chk.initialize()
    manager.start_all()
    return remote, local


def _report(manager):
    return manager.node("chk").report()


def _keeps_flowing(manager, seconds_of_data):
    """Received samples keep growing (no stall) for a few rounds."""
    for _ in range(3):
        n = _report(manager)["samples"]
        wait_for(lambda: _report(manager)["samples"] > n + seconds_of_data, timeout=30,
                 message="the shaped stream to keep delivering")


def test_drop_mode_over_a_lossy_slow_link_reports_gaps_and_never_corrupts(shaped):
    link, daemon, keydir, kind = shaped
    with Manager(heartbeat=0.25) as manager:
        # 4 MB/s offered to a 1 MB/s link with a 10-chunk queue: chunks must be dropped
        remote, local = _stream(manager, link, daemon, keydir, "drop", rate=31250, hwm=10)
        _keeps_flowing(manager, 2000)
        wait_for(lambda: _report(manager)["dropped"] > 0, timeout=30, message="drops to be reported")
        manager.node("src").stop()
        sent = manager.node("src").outputs["signals"].index._get_value()
        rep = _report(manager)
        print(f"{' '.join(SHAPES[kind])}, drop: sent {sent}, received {rep['samples']}, "
              f"gaps {rep['gaps']}, dropped {rep['dropped']}")
        assert rep["bad_chunks"] == 0, rep["bad"]                 # what arrives is exact
        assert rep["gaps"] > 0 and rep["dropped"] > 0
        assert rep["n_jumps"] == rep["gaps"] or rep["n_jumps"] > 0
        assert all(got > expected for expected, got in rep["jumps"])
        assert {cause for _, _, cause in rep["gap_log"]} == {"dropped"}
        lost = sum(stop - start for start, stop, _ in rep["gap_log"])
        assert rep["samples"] + lost == rep["last_index"] - rep["first_index"]
        assert remote.state == local.state == "running"
        assert manager.stats()["groups"]["local-sink"]["nodes"]["chk"]["state"] == "running"


def test_block_mode_over_a_lossy_slow_link_loses_nothing(shaped):
    link, daemon, keydir, kind = shaped
    with Manager(heartbeat=0.25) as manager:
        # offered above what the link carries: the sender is held back, nothing dropped
        _stream(manager, link, daemon, keydir, "block", rate=15625, hwm=10)
        _keeps_flowing(manager, 2000)
        manager.node("src").stop()
        sent = manager.node("src").outputs["signals"].index._get_value()
        t0 = time.monotonic()
        wait_for(lambda: _report(manager)["last_index"] == sent, timeout=60,
                 message="every sent sample to arrive")
        rep = _report(manager)
        lat = manager.stats()["groups"]["local-sink"]["nodes"]["chk"]["inputs"]["input"]["latency_p50"]
        print(f"{' '.join(SHAPES[kind])}, block: sent {sent}, received {rep['samples']}, "
              f"latency p50 {lat * 1000:.0f} ms, drained in {time.monotonic() - t0:.1f} s")
        assert rep["samples"] == sent and rep["first_index"] == 0
        assert rep["gaps"] == rep["dropped"] == rep["n_jumps"] == rep["bad_chunks"] == 0
        if kind == "netem":
            assert lat >= DELAY_S         # delayed (by at least the link's latency), not lost
