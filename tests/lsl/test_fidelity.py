"""LSL fidelity: source time stamps and a stable source_id on LSLOutlet, units and metadata on
LSLInlet, liblsl's INFO lines kept off stderr; real liblsl peers in other processes."""
import logging

import numpy as np
import pytest

from acqflow import OutputStream
from acqflow.dataflow import clock
from acqflow.testing import run_python
from acqflow.testing import wait_for
from tests.lsl.conftest import ROOT, Peer

pylsl = pytest.importorskip("pylsl")
from acqflow.devices import LSLInlet  # noqa: E402
from acqflow.lsl.info import clock_offset  # noqa: E402
from acqflow.nodes.lsl_outlet import LSLOutlet  # noqa: E402


class InletPeer(Peer):
    """tests/lsl/lsl_inlet_peer.py: a recovering liblsl consumer; ``got`` samples so far."""

    def __init__(self, **cfg):
        super().__init__("tests.lsl.lsl_inlet_peer", **cfg)
        self.got = 0

    def read(self) -> dict:
        msg = super().read()
        self.got = msg.get("got", self.got)
        return msg

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def make_outlet(name: str, node_name: str = "lslout", **kw):
    src = OutputStream(name="src")
    src.configure(dtype="float32", shape=(-1, 2), sample_rate=250.0, protocol="inproc")
    node = LSLOutlet(name=node_name)
    node.configure(name=name, type="EEG", **kw)
    node.input.connect(src)
    node.initialize()
    return src, node


def test_outlet_stamps_are_the_samples_source_times(unique):
    name = unique("stamps")
    src, node = make_outlet(name)
    peer = InletPeer(name=name, n=500)
    try:
        assert peer.read_until("ready")["ready"]
        wait_for(node.have_consumers, timeout=30)
        sent = []
        for k in range(10):                   # sent while the outlet is not pushing yet
            if 0 < k < 5:                     # paced at the rate, then a burst
                wait_for(lambda: clock.now() > sent[-1][1] + 0.2, interval=0.01)
            before = clock.now()
            src.send(np.full((50, 2), k, "float32"))
            sent.append((before, clock.now()))
        start = clock.now()
        wait_for(lambda: clock.now() > start + 0.5, interval=0.05)  # push time is 0.5 s later
        node.start()
        out = peer.read_until("samples")
    finally:
        peer.close()
        node.close()
    stamps = np.array(out["stamps"])
    assert len(stamps) == 500
    assert (np.diff(stamps) > 0).all()                        # never backwards, nor stuck
    off = clock_offset()
    for k, (before, after) in enumerate(sent):
        chunk = stamps[k * 50:(k + 1) * 50]
        if k < 5:                                             # at the rate: 1 / rate apart
            np.testing.assert_allclose(np.diff(chunk), 1 / 250.0, atol=1e-6)
        assert before - off - 0.005 <= chunk[-1] <= after - off + 0.005   # not the push time


def test_outlet_stamps_a_chunk_given_its_sample_time_with_that_time(unique):
    """A chunk sent with ``time=t`` (a replay, an LSL source, a filter passing times on) is
    stamped for when its samples were taken, not when they were sent."""
    name = unique("sampletime")
    src, node = make_outlet(name)
    peer = InletPeer(name=name, n=100)
    try:
        assert peer.read_until("ready")["ready"]
        wait_for(node.have_consumers, timeout=30)
        node.start()
        taken = clock.now() - 30.0                 # taken 30 s ago: far from any send time
        src.send(np.zeros((50, 2), "float32"), time=taken)
        src.send(np.ones((50, 2), "float32"), time=taken + 0.2)
        out = peer.read_until("samples")
    finally:
        peer.close()
        node.close()
    stamps = np.array(out["stamps"])
    off = clock_offset()
    assert abs(stamps[49] - (taken - off)) < 1e-6, stamps[49] - (taken - off)
    assert abs(stamps[99] - (taken + 0.2 - off)) < 1e-6


def test_default_source_id_is_stable_and_consumers_recover(unique):
    name = unique("recover")
    src, node = make_outlet(name, node_name="out1")
    sid = node.source_id
    assert sid.startswith("acqflow:") and ":out1:" in sid and name in sid
    peer = InletPeer(name=name, n=200)
    try:
        assert peer.read_until("ready")["source_id"] == sid
        wait_for(node.have_consumers, timeout=30)
        node.start()
        src.send(np.zeros((100, 2), "float32"))
        while peer.got < 100:
            peer.read()
        node.close()                                    # the graph restarts
        src2, node2 = make_outlet(name, node_name="out1")
        assert node2.source_id == sid
        node2.start()
        try:
            wait_for(node2.have_consumers, timeout=60, message="the liblsl inlet to recover")
            src2.send(np.ones((100, 2), "float32"))
            out = peer.read_until("samples")
        finally:
            node2.close()
    finally:
        peer.close()
    assert len(out["samples"]) == 200
    assert np.array(out["samples"])[100:].min() == 1.0


def test_inlet_keeps_units_types_and_header(lsl_source, unique):
    name = unique("units")
    src = lsl_source(name=name, channels=3, rate=100.0, units="microvolts", source_id="u1")
    node = LSLInlet(name="in")
    node.configure(name=name, resolve_timeout=10.0)
    try:
        spec = node.outputs["signals"].spec
        assert spec["channel_info"] == [{"name": f"C{c}", "units": "microvolts", "type": "EEG"}
                                        for c in range(3)]
        assert spec["units"] == "microvolts"
        assert spec["lsl_source_id"] == "u1" and spec["lsl_channel_format"] == "float32"
        assert "<manufacturer>tests</manufacturer>" in spec["lsl_info_xml"]
    finally:
        node.close()
        src.stop()


def test_liblsl_info_lines_stay_off_stderr(tmp_path):
    code = "from acqflow.lsl.info import visible_streams; visible_streams(0.2)"
    r = run_python(code, cwd=ROOT)
    assert "INFO|" not in r.stderr
    cfg = tmp_path / "lsl_api.cfg"                      # a user's own [log] setting wins
    cfg.write_text("[log]\nlevel = 0\n")
    r = run_python(code, cwd=ROOT, env={"LSLAPICFG": str(cfg)})
    assert "INFO|" in r.stderr
    r = run_python(code, cwd=ROOT, env={"ACQFLOW_LSL_LOG": "info"})
    assert "INFO|" in r.stderr


def test_spawned_lsl_user_forwards_no_info_as_warning(caplog):
    from acqflow.rpc import ProcessSpawner
    caplog.set_level(logging.INFO, logger="acqflow.child")
    proc = ProcessSpawner(name="lsl-child")
    try:
        info = proc.client._import("acqflow.lsl.info")
        assert isinstance(info.visible_streams(0.2), list)
    finally:
        proc.stop()
    bad = [r.getMessage() for r in caplog.records
           if r.levelno >= logging.WARNING and "INFO|" in r.getMessage()]
    assert bad == []
