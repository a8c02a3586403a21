"""A live console table of a running graph: streams, nodes and processes."""
from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from .summary import summarize

__all__ = ["StatsTable", "LiveView", "clock_cell"]


def clock_cell(info: dict | None) -> str:
    """'+250.012±0.080' (ms: the group's clock minus the manager's ± uncertainty),
    '0' on the manager's own clock, '?' before the first estimate."""
    if not info:
        return "-"
    if info.get("offset") is None:
        return "?"
    if info["offset"] == 0.0 and not info.get("uncertainty"):
        return "0"
    return f"{info['offset'] * 1e3:+.3f}±{info['uncertainty'] * 1e3:.3f}"


class StatsTable:
    """Turns successive ``Manager.stats()`` snapshots into rates and a text table."""

    def __init__(self) -> None:
        self._last: Mapping[str, Any] | None = None

    def update(self, stats: Mapping[str, Any]) -> list[str]:
        """The table for ``stats`` (rates are since the previous call)."""
        prev, self._last = self._last, stats
        summary = summarize(stats, prev)
        streams, nodes = [], []
        # the clock column only when a group is on another clock (another host): on one
        # host every process reads the same clock and the offset is 0 by definition
        clocks = {g: clock_cell(group.get("clock")) for g, group in summary["groups"].items()}
        show_clock = any(cell not in ("0", "-") for cell in clocks.values())
        for name, node in summary["nodes"].items():
            group = summary["groups"][node["group"]]
            cpu_pct = "    -" if node["cpu"] is None else f"{node['cpu']:5.1f}"
            state = node["state"] + (f" ({node['error']})" if node.get("error") else "")
            clock_col = f" {clocks[node['group']]:>18}" if show_clock else ""
            nodes.append(f"{name:<16} {node['group']:<12} {str(group.get('pid') or ''):>7} {cpu_pct:>6}"
                         f"{clock_col}  {state}")
        for st in summary["streams"]:
            rate = "         -" if st["rate"] is None else f"{st['rate']:10.0f}"
            lat = "       -" if st["latency"] is None else f"{st['latency'] * 1e3:8.2f}"
            stream = f"{st['source']}.{st['output']} -> {st['target']}.{st['input']}"
            streams.append(f"{stream:<36} {rate} {lat} {st['gaps']:6d} {st['dropped']:8d}")
        lines = [f"{'stream':<36} {'samples/s':>10} {'lat ms':>8} {'gaps':>6} {'dropped':>8}"]
        lines += streams or ["(no connected inputs)"]
        clock_head = f" {'clock ms':>18}" if show_clock else ""
        lines += ["", f"{'node':<16} {'group':<12} {'pid':>7} {'cpu %':>6}{clock_head}  state"] + nodes
        return lines


class LiveView:
    """Shows successive text blocks on ``out``: redrawn in place on a terminal (rich.live),
    appended as plain lines otherwise (logs and tests read those), each followed by ``end``.

    Use as a context manager; anything else written while it is open appears above it.
    """

    def __init__(self, out: TextIO | None = None, end: str = "\n"):
        self.out = out if out is not None else sys.stdout
        self.end = end
        self._live: Any = None

    def __enter__(self) -> LiveView:
        if self.out.isatty():
            from rich.console import Console
            from rich.live import Live
            self._live = Live(console=Console(file=self.out), auto_refresh=False,
                              vertical_overflow="visible")
            self._live.start()
        return self

    def show(self, text: str) -> None:
        """Replace the block shown (terminal) or write it (anything else)."""
        if self._live is not None:
            from rich.text import Text
            self._live.update(Text(text, no_wrap=True, overflow="crop"), refresh=True)
        else:
            self.out.write(text + self.end)
            self.out.flush()

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()          # the last block stays on screen
            self._live = None
