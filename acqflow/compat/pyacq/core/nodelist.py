"""pyacq's node-type list (``pyacq.core.nodelist``) onto acqflow's node-type registry."""
from __future__ import annotations

import importlib

from ....dataflow.graph import registry

__all__ = ["register_node_type", "register_node_type_from_module", "all_nodes", "get_node_type",
           "node_type_names", "PYACQ_NODE_TYPES"]


#: pyacq's node types and the compat package that defines each: every pyacq node group
#: knows them without registering (as pyacq's), its package imported on first use.
PYACQ_NODE_TYPES: dict[str, str] = {
    **dict.fromkeys(("NumpyDeviceBuffer",), "devices"),
    **dict.fromkeys(("SosFilter", "OverlapFiltfilt", "AnalogTrigger", "DigitalTrigger",
                     "TriggerAccumulator"), "dsp"),
    **dict.fromkeys(("RawRecorder", "AviRecorder"), "rec"),
    **dict.fromkeys(("QOscilloscope", "QDigitalOscilloscope", "ImageViewer",
                     "QTriggeredOscilloscope", "QTimeFreq", "QOscilloscopeMultiPlot", "TimeFreqWorker"),
                    "viewers"),
}
_PACKAGE = __name__.rsplit(".", 2)[0]      # acqflow.compat.pyacq


def get_node_type(name: str) -> type:
    """The class registered as ``name``: pyacq's node types first (their package imported
    now), then the registry (pyacq's own test node types included: the Qt one is defined,
    and registered, by the node module when first asked for)."""
    if name in PYACQ_NODE_TYPES:
        package = importlib.import_module(f"{_PACKAGE}.{PYACQ_NODE_TYPES[name]}")
        return package.NODE_TYPES[name]
    if name == "_MyTestNodeQWidget":
        from . import node
        return getattr(node, name)
    return registry.get_node_type(name)


def node_type_names() -> list[str]:
    """Names of every node type a pyacq node group knows (nothing imported)."""
    return sorted(set(registry.node_type_names()) | set(PYACQ_NODE_TYPES))


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
