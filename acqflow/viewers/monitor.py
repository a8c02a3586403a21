"""GraphMonitor: a window drawing a running graph with live stream rates, latency, drops, states.

``manager.stats()`` and ``manager.connections()`` are polled in a thread every
``interval`` s (2 Hz), so an unresponsive node group never freezes the window.
``run_monitor(manager, stop)`` shows it in the calling (main) thread until
``stop`` is set or the window is closed (which sets ``stop``);
``run_graph_with_monitor(run_graph, spec, stop=stop, ...)`` runs a graph in a
worker thread and the monitor in this one.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from .apploop import stop_on_signals
from .base import get_app

__all__ = ["GraphMonitor", "run_monitor", "run_graph_with_monitor", "STATE_COLORS", "graph_layout"]

STATE_COLORS = {"running": "#2ca02c", "initialized": "#1f77b4", "stopped": "#7f7f7f",
                "configured": "#9467bd", "new": "#9467bd", "closed": "#404040", "error": "#d62728",
                "restarting": "#ff7f0e"}
_EDGE_OK, _EDGE_LOSS, _EDGE_IDLE = (80, 200, 80), (255, 140, 0), (120, 120, 120)


def graph_layout(nodes: list[str], links: list[tuple]) -> dict[str, tuple[float, float]]:
    """Positions: column = longest path from a source, rows spread within a column."""
    depth = {n: 0 for n in nodes}
    for _ in range(len(nodes)):
        changed = False
        for src, _, dst, _ in links:
            if src in depth and dst in depth and src != dst and depth[dst] < depth[src] + 1 <= len(nodes):
                depth[dst] = depth[src] + 1
                changed = True
        if not changed:
            break
    columns: dict[int, list[str]] = {}
    for n in nodes:
        columns.setdefault(depth[n], []).append(n)
    pos = {}
    for d, names in columns.items():
        for i, n in enumerate(sorted(names)):
            pos[n] = (float(d), (len(names) - 1) / 2.0 - i)
    return pos


class _StatsPoller(threading.Thread):
    """Calls ``manager.stats()`` / ``connections()`` every ``interval`` s; keeps the newest."""

    def __init__(self, manager: Any, interval: float):
        super().__init__(name="acqflow-monitor-poller", daemon=True)
        self.manager, self.interval = manager, interval
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.latest: tuple[dict, list] | None = None
        self.error: str | None = None
        self.polls = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                stats = self.manager.stats()
                links = [tuple(x) for x in self.manager.connections()]
                with self.lock:
                    self.latest, self.error = (stats, links), None
                    self.polls += 1
            except Exception as exc:              # a closing manager, a dead group...
                with self.lock:
                    self.error = f"{type(exc).__name__}: {exc}"
            self.stopping.wait(self.interval)


class GraphMonitor(QtWidgets.QWidget):
    """Nodes (coloured by state) and connections (labelled rate / latency / gaps / drops)
    of ``manager``, above tables of every stream and node, refreshed every ``interval`` s."""

    closed = QtCore.pyqtSignal()

    def __init__(self, manager: Any, interval: float = 0.5, parent: QtWidgets.QWidget | None = None):
        get_app()
        super().__init__(parent)
        self.manager, self.interval = manager, float(interval)
        self.setWindowTitle("acqflow graph monitor")
        self.resize(1000, 700)
        layout = QtWidgets.QVBoxLayout(self)
        self.header = QtWidgets.QLabel("waiting for the first stats...")
        layout.addWidget(self.header)
        splitter = QtWidgets.QSplitter(QtCore.Qt.Vertical)
        layout.addWidget(splitter)
        self.view = pg.PlotWidget(background="#101018")
        plot = self.view.getPlotItem()
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.hideButtons()
        plot.setMenuEnabled(False)
        self.graph = pg.GraphItem()
        plot.addItem(self.graph)
        splitter.addWidget(self.view)
        self.streams = self._table(["stream", "samples/s", "latency ms", "gaps", "dropped"])
        self.nodes_table = self._table(["node", "group", "pid", "state", "cpu %"])
        tables = QtWidgets.QSplitter(QtCore.Qt.Horizontal)
        tables.addWidget(self.streams)
        tables.addWidget(self.nodes_table)
        splitter.addWidget(tables)
        splitter.setSizes([450, 250])
        self._texts: list[pg.TextItem] = []
        self._prev: dict | None = None
        self._shown_polls = 0
        self.updates = 0
        self.rates: dict[tuple[str, str, str, str], float] = {}
        self.node_states: dict[str, str] = {}
        self._poller = _StatsPoller(manager, self.interval)
        self._poller.start()
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self.update_view)
        self._timer.start(max(50, int(self.interval * 1000 / 2)))

    @staticmethod
    def _table(headers: list[str]) -> QtWidgets.QTableWidget:
        table = QtWidgets.QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().hide()
        table.horizontalHeader().setStretchLastSection(True)
        table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        return table

    def update_view(self) -> bool:
        """Draw the newest stats if there are new ones; True when it did."""
        with self._poller.lock:
            latest, error, polls = self._poller.latest, self._poller.error, self._poller.polls
        if error:
            self.header.setText(f"stats unavailable: {error}")
        if latest is None or polls == self._shown_polls:
            return False
        self._shown_polls = polls
        stats, links = latest
        self._draw(stats, links)
        self.updates += 1
        return True

    def _draw(self, stats: dict, links: list[tuple]) -> None:
        prev, self._prev = self._prev, stats
        dt = max(1e-9, stats["time"] - prev["time"]) if prev else None
        nodes, where, node_rows, stream_rows, edge_info = [], {}, [], [], {}
        for gname, group in stats["groups"].items():
            pgroup = (prev or {}).get("groups", {}).get(gname, {})
            for name, node in group.get("nodes", {}).items():
                nodes.append(name)
                where[name] = (gname, node)
                pnode = pgroup.get("nodes", {}).get(name, {})
                cpu, pcpu = node.get("cpu_s"), pnode.get("cpu_s")
                cpu_pct = 100 * (cpu - pcpu) / dt if dt and cpu is not None and pcpu is not None else None
                state = node["state"] if group.get("state", "running") == "running" else \
                    f"{node['state']} ({group.get('state')})"
                node_rows.append([name, gname, str(group.get("pid", "")), state + (
                    f": {node['error']}" if node.get("error") else ""),
                    "-" if cpu_pct is None else f"{cpu_pct:.1f}"])
                self.node_states[name] = node["state"]
                for inp, st in node.get("inputs", {}).items():
                    pst = pnode.get("inputs", {}).get(inp)
                    rate = (st["samples"] - pst["samples"]) / dt if dt and pst else None
                    lost = bool(pst) and (st["dropped"] > pst["dropped"] or st["gaps"] > pst["gaps"])
                    src = tuple(st.get("source") or ("?", "?"))
                    key = (str(src[0]), str(src[1]), name, inp)
                    if rate is not None:
                        self.rates[key] = rate
                    edge_info[key] = (rate, st.get("latency_p50"), st["gaps"], st["dropped"], lost)
                    lat = st.get("latency_p50")
                    stream_rows.append([f"{src[0]}.{src[1]} -> {name}.{inp}",
                                        "-" if rate is None else f"{rate:.0f}",
                                        "-" if lat is None else f"{lat * 1e3:.2f}",
                                        str(st["gaps"]), str(st["dropped"])])
        self._fill(self.streams, stream_rows)
        self._fill(self.nodes_table, node_rows)
        self.header.setText(f"{len(nodes)} nodes in {len(stats['groups'])} processes; updated "
                            f"{time.strftime('%H:%M:%S', time.localtime(stats['time']))}")
        self._draw_graph(nodes, where, links, edge_info)

    @staticmethod
    def _fill(table: QtWidgets.QTableWidget, rows: list[list[str]]) -> None:
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        table.resizeColumnsToContents()

    def _draw_graph(self, nodes: list[str], where: dict, links: list[tuple], edge_info: dict) -> None:
        plot = self.view.getPlotItem()
        for text in self._texts:
            plot.removeItem(text)
        self._texts = []
        if not nodes:
            self.graph.setData(pos=np.zeros((0, 2)), adj=np.zeros((0, 2), int))
            return
        pos = graph_layout(nodes, links)
        index = {n: i for i, n in enumerate(nodes)}
        edges = [(s, o, d, i) for s, o, d, i in links if s in index and d in index]
        adj = np.array([(index[s], index[d]) for s, _, d, _ in edges], int).reshape(-1, 2)
        pens = np.empty(len(edges), dtype=[("red", np.ubyte), ("green", np.ubyte), ("blue", np.ubyte),
                                           ("alpha", np.ubyte), ("width", float)])
        for k, edge in enumerate(edges):
            rate, lat, gaps, dropped, lost = edge_info.get(edge, (None, None, 0, 0, False))
            color = _EDGE_LOSS if lost else (_EDGE_IDLE if not rate else _EDGE_OK)
            pens[k] = color + (255, 3.0)
            (x0, y0), (x1, y1) = pos[edge[0]], pos[edge[2]]
            label = f"{edge[1]} -> {edge[3]}\n" + ("-" if rate is None else f"{rate:,.0f}/s") + \
                ("" if lat is None else f"  {lat * 1e3:.1f} ms") + f"\ngaps {gaps}  dropped {dropped}"
            self._add_text(label, (x0 + x1) / 2, (y0 + y1) / 2, "#e0e0e0", (0.5, 0.5), fill=(16, 16, 24, 200))
        xy = np.array([pos[n] for n in nodes], float)
        brushes = [pg.mkBrush(STATE_COLORS.get(where[n][1]["state"], "#808080")) for n in nodes]
        self.graph.setData(pos=xy, adj=adj, pen=pens if len(edges) else None, symbol="s", size=28,
                           symbolBrush=brushes, symbolPen=pg.mkPen("#ffffff"), pxMode=True)
        for n in nodes:
            gname, node = where[n]
            self._add_text(f"{n}\n[{gname}] {node['state']}", pos[n][0], pos[n][1] - 0.12,
                           "#ffffff", (0.5, 0))
        xs, ys = xy[:, 0], xy[:, 1]
        self.view.setRange(xRange=(xs.min() - 0.5, xs.max() + 0.5), yRange=(ys.min() - 0.6, ys.max() + 0.5),
                           padding=0)

    def _add_text(self, text: str, x: float, y: float, color: str, anchor: tuple, fill=None) -> None:
        item = pg.TextItem(text, color=color, anchor=anchor, fill=fill)
        item.setPos(x, y)
        self.view.getPlotItem().addItem(item)
        self._texts.append(item)

    def stop(self) -> None:
        """Stop polling (the widget keeps showing the last stats)."""
        self._timer.stop()
        self._poller.stopping.set()

    def closeEvent(self, event) -> None:
        self.stop()
        self.closed.emit()
        super().closeEvent(event)


def run_monitor(manager: Any, stop_event: threading.Event, interval: float = 0.5,
                done: Callable[[], bool] | None = None, announce: str | None = None) -> None:
    """Show a GraphMonitor of ``manager`` in this (main) thread until ``stop_event`` is set,
    ``done()`` returns True, the user closes the window or Ctrl-C / SIGTERM arrives (both
    set ``stop_event``).  ``announce``: printed once the window runs (see run_app)."""
    app = get_app()
    monitor = GraphMonitor(manager, interval)
    loop = QtCore.QEventLoop()
    monitor.closed.connect(stop_event.set)
    check = QtCore.QTimer()
    check.timeout.connect(lambda: loop.quit() if stop_event.is_set() or (done and done()) else None)
    check.start(100)
    monitor.show()
    try:
        with stop_on_signals(stop_event.set):      # Ctrl-C / SIGTERM: stop, no traceback
            if announce is not None:
                QtCore.QTimer.singleShot(0, lambda: print(announce, flush=True))
            while not (stop_event.is_set() or (done and done())):
                if loop.exec_() == -1:
                    # QCoreApplication.quit() was called outside exec_() earlier in this
                    # process: every local loop now returns at once; pump events instead
                    app.processEvents(QtCore.QEventLoop.AllEvents, 50)
                    stop_event.wait(0.02)
    finally:
        check.stop()
        monitor.stop()
        monitor.hide()
        monitor.deleteLater()
        app.processEvents()


def run_graph_with_monitor(run_graph: Callable[..., int], *args: Any, stop: threading.Event,
                           monitor_interval: float = 0.5, **kwargs: Any) -> int:
    """Run ``run_graph(*args, stop=stop, on_started=..., **kwargs)`` in a worker thread and a
    GraphMonitor in this thread while it runs; returns run_graph's exit code.  Closing the
    window sets ``stop``, so the graph stops cleanly."""
    result: dict[str, Any] = {}
    started = threading.Event()

    def on_started(manager: Any) -> None:
        result["manager"] = manager
        started.set()

    def work() -> None:
        try:
            result["code"] = run_graph(*args, stop=stop, on_started=on_started, **kwargs)
        finally:
            started.set()

    worker = threading.Thread(target=work, name="acqflow-run-graph", daemon=True)
    worker.start()
    while not started.wait(0.1):
        pass
    if "manager" in result and worker.is_alive():
        run_monitor(result["manager"], stop, monitor_interval, done=lambda: not worker.is_alive())
    while worker.is_alive():
        worker.join(0.1)               # short waits: signal handlers keep running
    return int(result.get("code", 1))
