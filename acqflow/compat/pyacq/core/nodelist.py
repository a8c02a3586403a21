"""pyacq's node-type list (``pyacq.core.nodelist``) onto acqflow's node-type registry."""
from __future__ import annotations

import importlib

from ....dataflow import registry
from ....dataflow.registry import node_type_names

__all__ = ["register_node_type", "register_node_type_from_module", "all_nodes", "get_node_type",
           "node_type_names"]


def get_node_type(name: str) -> type:
    """The class registered as ``name`` (pyacq's own test node types included: the Qt one
    is defined, and registered, by the node module when first asked for)."""
    if name == "_MyTestNodeQWidget":
        from . import node
        return getattr(node, name)
    return registry.get_node_type(name)


class _AllNodes:
    """Read-only mapping view of the registry, as pyacq's ``nodelist.all_nodes`` dict."""

    def __getitem__(self, name: str) -> type:
        return get_node_type(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in node_type_names()

    def __iter__(self):
        return iter(node_type_names())

    def __len__(self) -> int:
        return len(node_type_names())

    def keys(self) -> list[str]:
        return node_type_names()


all_nodes = _AllNodes()


def register_node_type(node_class: type, classname: str | None = None) -> type:
    """Register a Node subclass under ``classname`` (default: its class name)."""
    return registry.register_node_type(node_class, classname)


def register_node_type_from_module(modname: str, classname: str) -> type:
    """Import ``modname`` and register its class ``classname`` (idempotent)."""
    module = importlib.import_module(modname)
    try:
        cls = getattr(module, classname)
    except AttributeError:
        raise AttributeError(f"module {modname!r} has no class {classname!r}") from None
    return register_node_type(cls, classname)
