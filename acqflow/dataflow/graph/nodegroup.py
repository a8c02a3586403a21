"""NodeGroup: the nodes that live in one process, and what a Manager asks of them.

A Manager spawns a process per group and drives it through RPC; the group
creates nodes by registered type name, starts/stops them together, and
describes itself (node types, configuration, stream params, connections, CPU
per node) in plain values, so the Manager can monitor it and rebuild it after a
crash.
"""
from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from typing import Any

import psutil

from .node import Node
from .registry import get_node_type
from ..stats import GroupStats

__all__ = ["NodeGroup"]


def _threads_cpu() -> dict[int, float]:
    """CPU seconds (user + system) of each thread of this process, by native thread id
    (empty where the platform does not say)."""
    try:
        return {t.id: t.user_time + t.system_time for t in psutil.Process().threads()}
    except psutil.Error:
        return {}


def _import_quietly(modules: tuple[str, ...]) -> None:
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception:    # the node's own import at initialize() reports it
            pass


def _warm_imports(modules: tuple[str, ...]) -> None:
    """Import ``modules`` in a background thread (see Node.warm_imports), those not imported
    yet: under ``acqflow run`` the group's process imported them as it started (its preload)."""
    modules = tuple(m for m in modules if m not in sys.modules)
    if modules:
        threading.Thread(target=_import_quietly, args=(modules,),
                         name="acqflow-warm-imports", daemon=True).start()


class NodeGroup:
    """A named set of nodes in one process."""

    def __init__(self, name: str = "nodegroup"):
        self.name = name
        self.nodes: dict[str, Node] = {}
        self.modules: list[str] = []
        self._lock = threading.RLock()

    def import_module(self, module: str) -> None:
        """Import a module in this process (e.g. one that registers node types);
        remembered, so a rebuilt group imports it again."""
        importlib.import_module(module)
        if module not in self.modules:
            self.modules.append(module)

    def create_node(self, type_name: str, name: str | None = None) -> Node:
        """Create a node of a registered type; names are unique within the group."""
        cls = get_node_type(type_name)
        name = name or f"{type_name}{len(self.nodes)}"
        with self._lock:
            if name in self.nodes:
                raise ValueError(f"node group {self.name!r} already has a node named {name!r}")
            node = cls(name=name)
            node.type_name = type_name
            self.nodes[name] = node
        _warm_imports(node.warm_imports)
        return node

    def get_node(self, name: str) -> Node:
        """The node called ``name``; KeyError naming the group's nodes if there is none."""
        try:
            return self.nodes[name]
        except KeyError:
            raise KeyError(f"node group {self.name!r} has no node {name!r} "
                           f"(has: {', '.join(self.nodes) or 'none'})") from None

    def remove_node(self, name: str) -> None:
        """Close the node called ``name`` and forget it."""
        self.get_node(name).close()
        del self.nodes[name]

    def list_nodes(self) -> list[str]:
        """Names of the group's nodes, in creation order."""
        return list(self.nodes)

    def start_all(self) -> None:
        """Start every node that can start (initialized or stopped)."""
        for node in self.nodes.values():
            if node.state in ("initialized", "stopped"):
                node.start()

    def stop_all(self) -> None:
        """Stop every running node (the others are left as they are)."""
        for node in self.nodes.values():
            if node.state == "running":
                node.stop()

    def close(self) -> None:
        """Close every node (and so every stream and shared-memory segment)."""
        self.stop_all()
        for node in self.nodes.values():
            node.close()

    # -- introspection -------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Plain-value description: enough to show the graph and to rebuild it."""
        nodes = {}
        for name, node in self.nodes.items():
            outputs = {k: {"configured": o.configured, "kwargs": dict(o.configure_kwargs),
                           "url": o.params.get("url"), "index": o.index} for k, o in node.outputs.items()}
            inputs = {k: {"connected": i.connected, "url": i.params.get("url"),
                          "source": [i.params.get("node"), i.params.get("name")] if i.connected else None}
                      for k, i in node.inputs.items()}
            nodes[name] = {"type": getattr(node, "type_name", type(node).__name__),
                           "state": node.state, "error": node.error_reason,
                           "config": dict(node.config), "outputs": outputs, "inputs": inputs}
        return {"name": self.name, "pid": os.getpid(), "modules": list(self.modules), "nodes": nodes}

    def stats(self) -> GroupStats:
        """Per node: state and CPU seconds; per input: counters and latency."""
        cpu: dict[str, float] = {}
        per_thread = _threads_cpu()
        for t in threading.enumerate():
            owner = t.name.split(" ", 1)[0]
            if owner in self.nodes and t.native_id in per_thread:
                cpu[owner] = cpu.get(owner, 0.0) + per_thread[t.native_id]
        nodes = {}
        for name, node in self.nodes.items():
            inputs = {}
            for k, inp in node.inputs.items():
                if inp.connected:
                    st = inp.stats().as_dict()
                    st["sample_rate"] = inp.params.get("sample_rate")
                    st["source"] = [inp.params.get("node"), inp.params.get("name")]
                    inputs[k] = st
            outputs = {k: {"samples": o.sent_samples, "chunks": o.sent_chunks, "inputs": o.n_inputs}
                       for k, o in node.outputs.items() if o.configured}
            ended = getattr(node, "ended", None)     # a Player at the end of its recording
            nodes[name] = {"state": node.state, "error": node.error_reason, "cpu_s": cpu.get(name),
                           "ended": bool(ended is not None and ended.is_set()),
                           "inputs": inputs, "outputs": outputs}
        return GroupStats(name=self.name, pid=os.getpid(), time=time.time(),
                          process_cpu_s=time.process_time(), nodes=nodes)
