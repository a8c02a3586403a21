"""acqflow: a dataflow engine for real-time acquisition (pyacq's API family)."""
from . import hooks
from .errors import Error
from .dataflow import (ChannelSplitter, ChunkResizer, InputStream, Node, NodeStateError,
                       OutputStream, OverrunError, ProcessingNode, RingBuffer, StreamClosed,
                       StreamConverter, StreamError, ThreadPollInput, get_node_type,
                       node_type_names, node_types, register_node_type)
from .dataflow.cpulatency import CpuLatencyRequest

__all__ = ["Error", "InputStream", "OutputStream", "RingBuffer", "StreamError", "StreamClosed",
           "OverrunError", "ThreadPollInput", "StreamConverter", "ChannelSplitter", "ChunkResizer",
           "Node", "NodeStateError", "ProcessingNode", "register_node_type", "get_node_type",
           "node_types", "node_type_names", "CpuLatencyRequest",
           "RPCServer", "RPCClient", "ProcessSpawner", "ObjectProxy", "QtRPCServer"]


# pyacq's top-level RPC names, imported on first use: `import acqflow` (and so acqflow.storage,
# acqflow.dataflow, ...) stays free of the RPC layer, and QtRPCServer pulls Qt.
_LAZY = {"RPCServer": "acqflow.rpc", "RPCClient": "acqflow.rpc", "ProcessSpawner": "acqflow.rpc",
         "ObjectProxy": "acqflow.rpc", "QtRPCServer": "acqflow.rpc.qtserver"}


def __getattr__(name: str):
    """Resolve the lazily imported names of ``_LAZY``, and ``__version__``."""
    if name == "__version__":
        globals()["__version__"] = version = _version()
        return version
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'acqflow' has no attribute {name!r}")


def _version() -> str:
    """The version pyproject.toml sets, from the installed package's metadata (read on first use:
    importlib.metadata is slow to import); a source tree never installed reads its pyproject.toml."""
    from importlib import metadata
    try:
        return metadata.version("acqflow")
    except metadata.PackageNotFoundError:
        import pathlib
        import tomllib
        pyproject = pathlib.Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
        except (OSError, ValueError, KeyError):
            return "0+unknown"


# The hooks lower layers call without importing the layer above (acqflow/hooks.py): this root
# package sits above every layer, and each loader imports its provider only when asked for it.
def _web_monitor():
    """hooks.WEB_MONITOR: acqflow.web.serve_web (``Manager.serve_web``)."""
    from .web import serve_web
    return serve_web


def _graph_window():
    """hooks.GRAPH_WINDOW: acqflow.viewers.monitor.run_graph_with_monitor (``acqflow run --monitor``)."""
    from .viewers.monitor import run_graph_with_monitor
    return run_graph_with_monitor


def _rpc_client():
    """hooks.RPC_CLIENT: acqflow.rpc.client.client_for (an ObjectProxy's thread's client)."""
    from .rpc.client import client_for
    return client_for


hooks.provide(hooks.WEB_MONITOR, _web_monitor)
hooks.provide(hooks.GRAPH_WINDOW, _graph_window)
hooks.provide(hooks.RPC_CLIENT, _rpc_client)
