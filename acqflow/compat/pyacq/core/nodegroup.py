"""pyacq's ``NodeGroup``: the nodes of one process, created by type name with any arguments.

Built on acqflow's NodeGroup (so ``describe()``/``stats()`` work for the monitor); the
methods keep pyacq's signatures: ``create_node(type, *args, **kwargs)`` passes its arguments
to the node class, ``list_nodes()`` returns the nodes themselves (proxies, remotely).
"""
from __future__ import annotations

from typing import Any

from ....dataflow.graph.nodegroup import NodeGroup as _NodeGroup
from ....rpc import registry as rpc_registry
from . import node as _node  # noqa: F401 - registers pyacq's _MyTestNode, as pyacq does
from . import nodelist

__all__ = ["NodeGroup"]


class NodeGroup(_NodeGroup):
    """A collection of nodes in one process; made by a Host (``Host.create_nodegroup``)."""

    def __init__(self, host: Any = None, manager: Any = None, name: str = "nodegroup"):
        super().__init__(name)
        self.host = host
        self.manager = manager
        server = rpc_registry.thread_server()
        if server is not None:          # pyacq publishes the group for other clients
            server["nodegroup"] = self

    def create_node(self, node_class: str, *args: Any, **kwds: Any):  # type: ignore[override]  # pyacq's arguments
        """Create a node of the registered type ``node_class`` with these arguments."""
        if not isinstance(node_class, str):
            raise TypeError(f"create_node() takes a registered type name, got {node_class!r}")
        node = nodelist.get_node_type(node_class)(*args, **kwds)
        node.type_name = node_class
        self.add_node(node)
        return node

    def list_node_types(self) -> list[str]:
        """Names of every registered node type."""
        return nodelist.node_type_names()

    def register_node_type_from_module(self, modname: str, classname: str) -> None:
        """Import ``modname`` here and register its class ``classname``."""
        nodelist.register_node_type_from_module(modname, classname)
        if modname not in self.modules:
            self.modules.append(modname)

    def add_node(self, node) -> None:
        """Add a node (its name, made unique in the group, is its key in ``nodes``)."""
        with self._lock:
            if any(n is node for n in self.nodes.values()):
                return
            key, k = node.name, 1
            while key in self.nodes:
                k += 1
                key = f"{node.name}#{k}"
            self.nodes[key] = node

    def _key(self, node) -> str:
        if isinstance(node, str):
            self.get_node(node)
            return node
        for key, n in self.nodes.items():
            if n is node:
                return key
        raise KeyError(f"node {getattr(node, 'name', node)!r} is not in node group {self.name!r}")

    def remove_node(self, node) -> None:
        """Remove a node (or node name) from the group; a running node is refused."""
        with self._lock:
            key = self._key(node)
            if self.nodes[key].state == "running":
                raise RuntimeError(f"refusing to remove node {key!r} while it is running")
            del self.nodes[key]

    def list_nodes(self) -> list:
        """The nodes of this group."""
        return list(self.nodes.values())

    def start_all_nodes(self) -> None:
        """Start every node that is not running yet."""
        for node in list(self.nodes.values()):
            if node.state != "running":
                node.start()

    def stop_all_nodes(self) -> None:
        """Stop every running node."""
        for node in list(self.nodes.values()):
            if node.state == "running":
                node.stop()

    def any_node_running(self) -> bool:
        """True if any node of the group runs."""
        return any(node.state == "running" for node in self.nodes.values())

    # acqflow's names, for the Manager and the graph tools
    start_all = start_all_nodes
    stop_all = stop_all_nodes

    def close(self) -> None:
        """Stop and close every node, then close this process's server (the process ends)."""
        try:
            super().close()
        finally:
            server = rpc_registry.thread_server()
            if server is not None:
                server.request_close()      # after this call's reply is sent
