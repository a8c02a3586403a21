"""A live console table of a running graph: streams, nodes and processes."""
from __future__ import annotations

from typing import Any

__all__ = ["StatsTable", "clock_cell"]


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

    def __init__(self):
        self._last: dict[str, Any] | None = None

    def update(self, stats: dict[str, Any]) -> list[str]:
        """The table for ``stats`` (rates are since the previous call)."""
        prev, self._last = self._last, stats
        dt = max(1e-9, stats["time"] - prev["time"]) if prev else None
        streams, nodes = [], []
        for gname, group in stats["groups"].items():
            pgroup = (prev or {}).get("groups", {}).get(gname, {})
            for name, node in group.get("nodes", {}).items():
                pnode = pgroup.get("nodes", {}).get(name, {})
                cpu = node.get("cpu_s")
                pcpu = pnode.get("cpu_s")
                cpu_pct = f"{100 * (cpu - pcpu) / dt:5.1f}" if dt and cpu is not None and pcpu is not None else "    -"
                state = node["state"] + (f" ({node['error']})" if node.get("error") else "")
                nodes.append(f"{name:<16} {gname:<12} {str(group.get('pid', '')):>7} {cpu_pct:>6} "
                             f"{clock_cell(group.get('clock')):>18}  {state}")
                for inp, st in node.get("inputs", {}).items():
                    pst = pnode.get("inputs", {}).get(inp)
                    rate = f"{(st['samples'] - pst['samples']) / dt:10.0f}" if dt and pst else "         -"
                    lat = st.get("latency_p50")
                    lat = f"{lat * 1e3:8.2f}" if lat is not None else "       -"
                    src = ".".join(str(x) for x in st.get("source") or ("?", "?"))
                    streams.append(f"{src + ' -> ' + name + '.' + inp:<36} {rate} {lat} "
                                   f"{st['gaps']:6d} {st['dropped']:8d}")
        lines = [f"{'stream':<36} {'samples/s':>10} {'lat ms':>8} {'gaps':>6} {'dropped':>8}"]
        lines += streams or ["(no connected inputs)"]
        lines += ["", f"{'node':<16} {'group':<12} {'pid':>7} {'cpu %':>6} {'clock ms':>18}  state"] + nodes
        return lines
