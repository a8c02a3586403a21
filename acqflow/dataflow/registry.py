"""The node-type registry: names to Node classes, found through entry points.

Every node type of acqflow, and of any package that adds some, is an entry point
in the ``acqflow.nodes`` group (``MyDevice = "mypkg.devices:MyDevice"`` in
pyproject.toml); no acqflow module registers anything when imported.  An entry
point is imported only when its name is looked up, so a process that runs a
filter never imports Qt; one whose module cannot be imported (a missing extra) is
reported by name.  :func:`register_node_type` adds a class defined at run time (a
script's own node) to this process's registry.
"""
from __future__ import annotations

import logging
from importlib import metadata

from .paramcheck import did_you_mean

__all__ = ["register_node_type", "get_node_type", "node_types", "node_type_names",
           "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "acqflow.nodes"
_types: dict[str, type] = {}
_entry_points: dict[str, metadata.EntryPoint] | None = None
log = logging.getLogger(__name__)


def register_node_type(cls: type, name: str | None = None) -> type:
    """Register ``cls`` under ``name`` (default: its class name) in this process; usable as a
    decorator.  For a script's own classes: a package's node types are entry points."""
    from .node import Node
    if not (isinstance(cls, type) and issubclass(cls, Node)):
        raise TypeError(f"{cls!r} is not a Node subclass")
    name = name or cls.__name__
    if _types.get(name, cls) is not cls:
        raise ValueError(f"node type {name!r} is already registered as {_types[name]!r}")
    _types[name] = cls
    return cls


def _available_entry_points() -> dict[str, metadata.EntryPoint]:
    global _entry_points
    if _entry_points is None:
        _entry_points = {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    return _entry_points


def _load(name: str) -> type:
    """Import the entry point ``name``; ImportError says which module and why."""
    ep = _available_entry_points()[name]
    try:
        cls = ep.load()
    except ImportError as exc:
        raise ImportError(f"node type {name!r} ({ep.value}) cannot be imported: {exc} "
                          f"(is the extra that provides it installed?)") from exc
    if name not in _types:
        register_node_type(cls, name)
    return _types[name]


def node_types() -> dict[str, type]:
    """Every registered node type, entry points included (ones that fail to import are
    logged and left out)."""
    for name in _available_entry_points():
        if name not in _types:
            try:
                _load(name)
            except ImportError as exc:
                log.warning("%s", exc)
    return dict(_types)


def node_type_names() -> list[str]:
    """Names of every known node type, without importing any entry point."""
    return sorted(set(_types) | set(_available_entry_points()))


def get_node_type(name: str) -> type:
    """The Node class registered as ``name``; KeyError lists the known ones."""
    if name in _types:
        return _types[name]
    if name in _available_entry_points():
        return _load(name)
    known = node_type_names()
    raise KeyError(f"unknown node type {name!r}{did_you_mean(name, known)}; known types: "
                   f"{', '.join(known) or 'none'}")
