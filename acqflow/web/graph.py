"""The JSON documents of the web monitor: /api/graph and /api/stats (docs/monitor.md).

Built from what the Manager already keeps: each group's last ``describe()``
snapshot (types, outputs, connections) and ``Manager.stats()`` turned into rates
by :func:`acqflow.manager.summary.summarize`; no RPC of their own.
"""
from __future__ import annotations

from typing import Any

from .controls import RECORDER_TYPES

__all__ = ["graph_json", "stats_json", "transport"]


def transport(output: dict[str, Any]) -> dict[str, str | None]:
    """Protocol and transfer mode of an output in a group snapshot."""
    url = output.get("url") or ""
    kwargs = output.get("kwargs") or {}
    protocol = url.split("://", 1)[0] if "://" in url else kwargs.get("protocol")
    return {"protocol": protocol, "transfermode": kwargs.get("transfermode", "plaindata"),
            "streamtype": kwargs.get("streamtype", "analogsignal"), "url": url or None}


def graph_json(manager: Any, summary: dict[str, Any] | None = None) -> dict[str, Any]:
    """Groups (host, process, state), nodes (name, type, group, host, state, outputs)
    and connections (with their transport) of ``manager``'s graph."""
    states = (summary or {}).get("nodes", {})
    groups, nodes, outputs = [], [], {}
    for gname, group in list(manager.groups.items()):
        host = group.host or "localhost"
        groups.append({"name": gname, "host": host, "pid": group.pid, "state": group.state,
                       "reason": group.reason, "restarts": group.restarts, "qt": group.qt})
        for name, desc in group.snapshot["nodes"].items():
            outs = {}
            for oname, out in desc.get("outputs", {}).items():
                if out.get("configured"):
                    outs[oname] = transport(out)
                    outputs[(name, oname)] = outs[oname]
            state = states.get(name, {}).get("state", desc["state"])
            nodes.append({"name": name, "type": desc["type"], "group": gname, "host": host,
                          "state": state, "error": states.get(name, {}).get("error", desc.get("error")),
                          "outputs": outs, "inputs": sorted(desc.get("inputs", {})),
                          "recorder": desc["type"] in RECORDER_TYPES})
    connections = []
    for src, out, dst, inp in manager.connections():
        info = outputs.get((src, out), {})
        connections.append({"source": src, "output": out, "target": dst, "input": inp,
                            "protocol": info.get("protocol"), "transfermode": info.get("transfermode")})
    return {"groups": groups, "nodes": nodes, "connections": connections}


def stats_json(summary: dict[str, Any] | None) -> dict[str, Any]:
    """/api/stats: the summary (rates since the previous poll); empty before the first."""
    if summary is None:
        return {"time": None, "interval": None, "streams": [], "nodes": {}, "groups": {}}
    return summary
