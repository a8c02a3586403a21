"""ViewerPanel docking and the GraphMonitor drawing (fed by a scripted manager)."""
import time

import numpy as np
import pyqtgraph as pg
import pytest

import acqflow
from acqflow.viewers import EventRaster, Oscilloscope, ViewerPanel
from acqflow.viewers.monitor import STATE_COLORS, GraphMonitor, graph_layout
from acqflow.testing import wait_qt

from .conftest import color_mask, shot, to_pixel

pytestmark = pytest.mark.timeout(60)


def test_viewer_panel_docks_several_viewers_in_one_window(qapp):
    sig = acqflow.OutputStream()
    sig.configure(protocol="inproc", shape=(-1, 2), sample_rate=1000.0)
    ev = acqflow.OutputStream()
    ev.configure(protocol="inproc", streamtype="event")
    osc, raster = Oscilloscope(), EventRaster()
    osc.configure(xsize=1.0, show=False)
    raster.configure(show=False, xsize=2.0)
    osc.input.connect(sig)
    raster.input.connect(ev)
    for v in (osc, raster):
        v.initialize()
        v.start()
    panel = ViewerPanel(size=(800, 600))
    panel.add_viewer(osc, area="top")
    panel.add_viewer(raster, area="bottom", title="markers")
    panel.show()
    try:
        t = np.arange(1000) / 1000
        sig.send(np.stack([np.sin(2 * np.pi * 3 * t), np.cos(2 * np.pi * 3 * t)], 1).astype(np.float32))
        events = np.zeros(2, ev.params and acqflow.dataflow.make_dtype(ev.params["dtype"]))
        events["index"], events["label"] = [0, 1], [b"a", b"b"]
        ev.send(events)
        wait_qt(lambda: osc.frames >= 1 and raster.frames >= 1)
        assert panel.names() == [osc.name, raster.name]
        assert osc.widget.window() is panel and raster.widget.window() is panel
        img = shot(panel, "panel")
        top = osc.widget.mapTo(panel, osc.widget.rect().topLeft()).y()
        bottom = raster.widget.mapTo(panel, raster.widget.rect().topLeft()).y()
        assert top < bottom
        ratio = panel.devicePixelRatioF()
        for c in (0, 1):                                  # both traces in the top dock
            rows = np.flatnonzero(color_mask(img, osc.channel_color(c), tol=10)[:int(bottom * ratio)].any(1))
            assert len(rows) > 50
        below = color_mask(img, raster.lane_color(0), tol=10)[int(bottom * ratio):]
        assert below.sum() > 20                            # the event ticks in the bottom one
        panel.remove_viewer(raster.name)
        assert panel.names() == [osc.name] and raster.widget.parent() is None
    finally:
        for v in (osc, raster):
            v.close()
        panel.close()
        sig.close()
        ev.close()


class ScriptedManager:
    """What GraphMonitor needs of a Manager: stats() and connections(); counters grow per call."""

    def __init__(self):
        self.calls = 0

    def connections(self):
        return [("sig", "signals", "filt", "input"), ("filt", "output", "scope", "signals"),
                ("sig", "signals", "rec", "signals")]

    def stats(self):
        self.calls += 1
        n = self.calls
        def inp(samples, dropped, src):
            return {"samples": samples, "dropped": dropped, "gaps": dropped // 10,
                    "latency_p50": 0.0012, "source": list(src),
                    "chunks": n, "sample_rate": 1000.0, "index": samples}

        def node(state, inputs, err=None):
            return {"state": state, "error": err, "cpu_s": 0.1 * n, "inputs": inputs, "outputs": {}}
        return {"time": 1000.0 + n, "groups": {
            "acq": {"state": "running", "pid": 11, "nodes": {
                "sig": node("running", {}),
                "filt": node("running", {"input": inp(1000 * n, 0, ("sig", "signals"))})}},
            "gui": {"state": "running", "pid": 12, "nodes": {
                "scope": node("running", {"signals": inp(1000 * n, 50 * n, ("filt", "output"))}),
                "rec": node("error", {"signals": inp(0, 0, ("sig", "signals"))}, "disk full")}}}}


def test_graph_layout_puts_sources_left_of_what_they_feed():
    pos = graph_layout(["rec", "scope", "filt", "sig"], ScriptedManager().connections())
    assert pos["sig"][0] == 0 and pos["filt"][0] == 1 and pos["scope"][0] == 2 and pos["rec"][0] == 1


def test_graph_monitor_draws_nodes_by_state_and_streams_with_rates(qapp):
    manager = ScriptedManager()
    mon = GraphMonitor(manager, interval=0.05)
    mon.resize(900, 600)
    mon.show()
    try:
        wait_qt(lambda: mon.updates >= 3)
        mon.stop()
        wait_qt(lambda: not mon._poller.is_alive())
        mon.update_view()
        img = shot(mon, "monitor_scripted")
        assert mon.node_states == {"sig": "running", "filt": "running", "scope": "running", "rec": "error"}
        assert mon.rates[("sig", "signals", "filt", "input")] == pytest.approx(1000.0)
        rows = {mon.streams.item(r, 0).text(): [mon.streams.item(r, c).text() for c in range(1, 5)]
                for r in range(mon.streams.rowCount())}
        assert rows["filt.output -> scope.signals"][0] == "1000"
        assert rows["filt.output -> scope.signals"][1] == "1.20"
        states = {mon.nodes_table.item(r, 0).text(): mon.nodes_table.item(r, 3).text()
                  for r in range(mon.nodes_table.rowCount())}
        assert states["rec"] == "error: disk full"
        vb = mon.view.getPlotItem().getViewBox()
        pos = graph_layout(list(mon.node_states), manager.connections())
        for name, state in mon.node_states.items():
            col, row = to_pixel(vb, mon.view, mon, *pos[name])
            rgb = pg.mkColor(STATE_COLORS[state]).getRgb()[:3]
            assert color_mask(img, rgb, tol=12)[row - 4:row + 5, col - 4:col + 5].mean() > 0.5, name
        # the stream losing samples is orange, the healthy ones green
        def along(a, b):       # a point an eighth of the way along the edge a -> b
            (xa, ya), (xb, yb) = pos[a], pos[b]
            return to_pixel(vb, mon.view, mon, xa + (xb - xa) / 8, ya + (yb - ya) / 8)

        for (a, b), rgb in ((("filt", "scope"), (255, 140, 0)), (("sig", "filt"), (80, 200, 80))):
            col, row = along(a, b)
            assert color_mask(img, rgb, tol=12)[row - 3:row + 4, col - 3:col + 4].any(), (a, b)
    finally:
        mon.close()


def polled_three_times(seen: dict):
    """A run_graph stand-in: like run_graph until stop, here until the monitor has polled
    stats 3 times (a loaded machine may poll fewer than duration/interval times); it
    notes the polls and the spec in ``seen`` and returns 7."""
    def fake_run_graph(spec, duration=None, stop=None, on_started=None):
        manager = ScriptedManager()
        on_started(manager)
        deadline = time.monotonic() + 30       # a hang guard, under the test's timeout
        while manager.calls < 3 and time.monotonic() < deadline and not stop.wait(0.02):
            pass
        seen["calls"] = manager.calls
        seen["spec"] = spec
        return 7
    return fake_run_graph


def test_run_graph_with_monitor_runs_the_graph_in_a_thread_and_returns_its_code(qapp):
    import threading
    from acqflow.viewers import run_graph_with_monitor

    seen = {}
    fake_run_graph = polled_three_times(seen)
    stop = threading.Event()
    assert run_graph_with_monitor(fake_run_graph, "graph.yaml", duration=1.5, stop=stop,
                                  monitor_interval=0.1) == 7
    assert seen["spec"] == "graph.yaml" and seen["calls"] >= 3      # the monitor polled stats

    from pyqtgraph.Qt import QtCore, QtWidgets

    def close_monitor():       # the user closes the monitor window, once it is there
        for w in QtWidgets.QApplication.topLevelWidgets():
            if w.windowTitle() == "acqflow graph monitor" and w.isVisible():
                w.close()

    closer = QtCore.QTimer()
    closer.timeout.connect(close_monitor)
    closer.start(100)

    def runs_until_stopped(spec, stop=None, on_started=None):
        on_started(ScriptedManager())
        return 0 if stop.wait(20) else 1          # closing the window must set stop

    try:
        assert run_graph_with_monitor(runs_until_stopped, "g.yaml", stop=threading.Event()) == 0
    finally:
        closer.stop()


def test_the_monitor_runs_after_the_application_was_told_to_quit(qapp):
    """An earlier app.quit() outside exec_() makes every QEventLoop.exec_() return at once:
    the monitor still polls and shows until the graph ends."""
    import threading
    from acqflow.viewers import run_graph_with_monitor

    seen = {}
    fake_run_graph = polled_three_times(seen)
    qapp.quit()
    assert run_graph_with_monitor(fake_run_graph, "graph.yaml", stop=threading.Event(),
                                  monitor_interval=0.1) == 7
    assert seen["calls"] >= 3
