"""``pyacq.core``: the names pyacq's core exports, resolved lazily onto acqflow.

RPC names come from ``pyacq.core.rpc`` and streams from ``pyacq.core.stream`` when those
compat packages exist, else from acqflow.rpc / acqflow.dataflow directly.
"""
from __future__ import annotations

import importlib
from typing import Any

# name -> (module relative to this package or absolute, attribute)
_NAMES: dict[str, tuple[tuple[str, ...], str]] = {
    **{n: ((".rpc", "acqflow.rpc"), n) for n in
       ("RPCServer", "RPCClient", "ObjectProxy", "QtRPCServer", "ProcessSpawner")},
    "RemoteCallException": ((".rpc", "acqflow.rpc"), "RemoteCallError"),
    "OutputStream": ((".stream", "acqflow.dataflow"), "OutputStream"),
    "InputStream": ((".stream", "acqflow.dataflow"), "InputStream"),
    "SharedArray": ((".stream",), "SharedArray"),
    "NodeGroup": ((".nodegroup",), "NodeGroup"),
    "Node": ((".node",), "Node"),
    "WidgetNode": ((".node",), "WidgetNode"),
    "register_node_type": ((".nodelist",), "register_node_type"),
    "Manager": ((".manager",), "Manager"),
    "create_manager": ((".manager",), "create_manager"),
    "Host": ((".host",), "Host"),
    **{n: ((".tools",), n) for n in
       ("ThreadPollInput", "ThreadPollOutput", "StreamConverter", "ChannelSplitter")},
}

__all__ = sorted(_NAMES)


def _resolve(name: str) -> Any:
    modules, attr = _NAMES[name]
    for i, module in enumerate(modules):
        try:
            mod = importlib.import_module(module, __name__)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if i + 1 < len(modules) and (__name__ + module).startswith(missing):
                continue                      # that compat package is not there: fall back
            raise
        if attr == "RemoteCallError" and hasattr(mod, "RemoteCallException"):
            attr = "RemoteCallException"
        if hasattr(mod, attr) or i + 1 == len(modules):
            return getattr(mod, attr)
    raise AttributeError(name)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = _resolve(name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NAMES))
