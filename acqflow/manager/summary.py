"""Rates and per-stream rows from successive ``Manager.stats()`` snapshots.

One place turns two snapshots into what every monitor shows (the console table,
the web monitor): per stream its rate, latency, gaps and drops; per node its
state and CPU share.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["summarize", "shown_state"]


def _rate(now: float | None, before: float | None, dt: float | None) -> float | None:
    if dt is None or now is None or before is None:
        return None
    return (now - before) / dt


def _group_dt(group: Mapping[str, Any], prev: Mapping[str, Any], dt: float | None) -> float | None:
    """Seconds between the moments a group's counters were read in two snapshots: its own
    stamps (the Manager asks the groups one after the other, so its single stamp can be
    off by their answer times, far more than a short poll interval on a loaded machine);
    ``dt`` (the snapshots' stamps) when either lacks one or the process changed."""
    now, before = group.get("time"), prev.get("time")
    if dt is None or now is None or before is None or group.get("pid") != prev.get("pid"):
        return dt
    return max(1e-9, now - before)


def shown_state(node: dict[str, Any]) -> str:
    """A node's state as monitors show it: 'ended' for a stopped node that reached the end
    of its data (a Player at the end of its recording), so a normal end never reads as a fault."""
    if node["state"] == "stopped" and node.get("ended"):
        return "ended"
    return node["state"]


def summarize(stats: Mapping[str, Any], prev: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Plain values for ``stats`` (rates since ``prev``, None without it):

    ``streams``: one dict per connected input: source, output, target, input,
    rate (samples/s), sample_rate (nominal), latency / latency_p99 (s), gaps,
    dropped, samples; ``nodes``: name -> group, pid, state (``shown_state``), error, cpu (% of one
    core), cpu_s; ``groups``: name -> state, pid, reason, restarts, clock.
    """
    dt = max(1e-9, stats["time"] - prev["time"]) if prev else None
    streams: list[dict[str, Any]] = []
    nodes: dict[str, dict[str, Any]] = {}
    groups: dict[str, dict[str, Any]] = {}
    for gname, group in stats["groups"].items():
        pgroup = (prev or {}).get("groups", {}).get(gname, {})
        gdt = _group_dt(group, pgroup, dt)
        groups[gname] = {k: group.get(k) for k in ("state", "pid", "reason", "restarts", "clock")}
        for name, node in group.get("nodes", {}).items():
            pnode = pgroup.get("nodes", {}).get(name, {})
            cpu = _rate(node.get("cpu_s"), pnode.get("cpu_s"), gdt)
            nodes[name] = {"group": gname, "pid": group.get("pid"), "state": shown_state(node),
                           "error": node.get("error"), "cpu": None if cpu is None else 100 * cpu,
                           "cpu_s": node.get("cpu_s")}
            for inp, st in node.get("inputs", {}).items():
                pst = pnode.get("inputs", {}).get(inp) or {}
                src = list(st.get("source") or ("?", "?"))
                streams.append({"source": src[0], "output": src[1], "target": name, "input": inp,
                                "rate": _rate(st["samples"], pst.get("samples"), gdt),
                                "sample_rate": st.get("sample_rate"),
                                "latency": st.get("latency_p50"), "latency_p99": st.get("latency_p99"),
                                "gaps": st["gaps"], "dropped": st["dropped"], "samples": st["samples"]})
    return {"time": stats["time"], "interval": dt, "streams": streams, "nodes": nodes, "groups": groups}
