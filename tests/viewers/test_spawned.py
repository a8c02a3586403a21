"""Viewers in a spawned Qt process: driven through RPC, fed by real streams, counters via proxies."""
import os

import numpy as np
import pytest

import acqflow
from acqflow.manager import Manager
from acqflow.rpc import ProcessSpawner
from acqflow.testing import wait_for, wait_qt
from acqflow.viewers import GraphMonitor

from .conftest import SHOTS, shot

pytestmark = pytest.mark.timeout(90)


def test_oscilloscope_in_a_qt_process_receives_data_and_docks_in_a_panel(tmp_path):
    out = acqflow.OutputStream()
    out.configure(protocol="tcp", shape=(-1, 4), sample_rate=1000.0)
    with ProcessSpawner(name="viewers-qt", qt=True) as child:
        rv = child.client._import("acqflow.viewers")
        osc = rv.Oscilloscope(name="remote_scope")
        # a window longer than the 2 s burst below: with xsize=1 the samples that scrolled out
        # between two frames were (rightly) counted as skipped when a frame fell mid-burst
        osc.configure(xsize=3.0)
        osc.input.connect(out.params)
        osc.initialize()
        osc.start()
        assert child.client._import("acqflow.rpc.qtserver").in_gui_thread() is True
        panel = rv.ViewerPanel(title="remote panel")
        panel.add_viewer(osc)                     # the proxy resolves to the viewer over there
        panel.show()
        assert panel.names() == ["remote_scope"]
        t = np.arange(50)
        for i in range(40):
            out.send(np.sin(2 * np.pi * (t[:, None] + 50 * i) / 250 * np.arange(1, 5)).astype(np.float32))
        wait_for(lambda: osc.counters()["drawn_chunks"] == 40, timeout=20)
        counters = osc.counters()
        assert counters["frames"] >= 1 and counters["received_chunks"] == 40
        assert counters["dropped"] == 0 and counters["skipped"] == 0
        path = os.path.join(SHOTS, "spawned_panel.png")
        rv.save_png(panel, path)
        assert os.path.getsize(path) > 1000
        osc.close()
        panel.close()
    out.close()


def test_manager_qt_group_viewer_and_the_graph_monitor(qapp):
    with Manager(heartbeat=0.5) as manager:
        acq = manager.create_nodegroup("acq")
        gui = manager.create_nodegroup("gui", qt=True)
        gui.import_module("acqflow.viewers")
        sig = acq.create_node("SyntheticSignal", "sig")
        sig.configure(channels=8, sample_rate=2000.0, chunksize=40)
        sig.outputs["signals"].configure(protocol="tcp")
        sig.initialize()
        scope = gui.create_node("Oscilloscope", "scope")
        scope.configure(xsize=2.0)
        scope.input.connect(sig.outputs["signals"])
        scope.initialize()
        manager.refresh()
        manager.start_all()
        monitor = GraphMonitor(manager, interval=0.25)
        monitor.resize(800, 500)
        monitor.show()
        try:
            wait_for(lambda: scope.counters()["frames"] > 10, timeout=20)
            key = ("sig", "signals", "scope", "signals")
            wait_qt(lambda: monitor.rates.get(key, 0) > 1000, timeout=20, message="a live rate")
            assert monitor.node_states == {"sig": "running", "scope": "running"}
            shot(monitor, "monitor")
        finally:
            monitor.close()
