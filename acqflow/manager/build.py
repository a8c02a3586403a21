"""Build a validated GraphSpec into running node groups."""
from __future__ import annotations

import logging

from ..dataflow.graph import GraphSpec
from .manager import Manager

__all__ = ["build_graph", "GraphBuildError"]

log = logging.getLogger("acqflow.manager")


class GraphBuildError(RuntimeError):
    """A node or stream of a graph could not be set up; names which and why."""


def _step(what: str, call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except Exception as exc:
        raise GraphBuildError(f"{what}: {exc}") from exc


def _connect(manager: Manager, c) -> None:
    (src, out), (dst, inp) = c.source, c.target
    _step(f"connecting {src}.{out} -> {dst}.{inp}", manager.node(dst).inputs[inp].connect,
          manager.node(src).outputs[out])


def build_graph(spec: GraphSpec, manager: Manager) -> None:
    """Spawn the groups, create/configure the nodes, configure outputs (inproc when
    every consumer shares the producer's process, else the graph's or tcp),
    connect, and initialize, sources first.  Nodes are left ready to start."""
    for name, address in spec.hosts.items():
        manager.add_host(name, address)
    used = {n.group for n in spec.nodes.values()}
    for gname, opts in spec.groups.items():
        if gname not in used:
            continue
        group = _step(f"starting node group {gname!r}", manager.create_nodegroup, gname,
                      host=opts.get("host"), qt=bool(opts.get("qt", False)), restart=opts.get("restart"))
        for module in spec.imports:
            _step(f"importing {module!r} in group {gname!r}", group.import_module, module)
    order = spec.order()
    for name in order:
        ns = spec.nodes[name]
        node = _step(f"creating node {name!r} ({ns.type})", manager.groups[ns.group].create_node, ns.type, name)
        _step(f"configuring node {name!r} ({ns.type})", node.configure, **ns.params)
    consumers: dict[tuple[str, str], set[str]] = {}
    for c in spec.connections:
        consumers.setdefault(c.source, set()).add(spec.nodes[c.target[0]].group)
    # Sources first: a node's inputs are connected before its outputs are configured,
    # since nodes derive their output params (shape, rate...) from their inputs.
    late = [c for c in spec.connections if c.feedback]
    for name in order:
        for c in spec.connections:
            if c.target[0] == name and not c.feedback:
                _connect(manager, c)
        ns = spec.nodes[name]
        node = manager.node(name)
        for out in sorted(set(ns.outputs) | {o for (n, o) in consumers if n == name}):
            params = spec.output_params(name, out)
            if "protocol" not in params:
                params["protocol"] = "inproc" if consumers.get((name, out), set()) <= {ns.group} else "tcp"
            _step(f"configuring output {name}.{out}", node.outputs[out].configure, **params)
    for c in late:
        _connect(manager, c)
    for name in order:
        _step(f"initializing node {name!r}", manager.node(name).initialize)
    manager.refresh()
