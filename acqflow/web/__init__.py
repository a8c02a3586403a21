"""The web monitor: a running graph seen and steered from a browser (docs/monitor.md).

``serve_web(manager, '127.0.0.1:8080')`` (or ``Manager.serve_web``, ``acqflow run
GRAPH --web PORT``, ``acqflow demo --web PORT``) serves a page drawing the graph
with live rates, states and previews, /api/graph, /api/stats, and token-guarded
controls.  Needs the web extra (aiohttp): ``pip install acqflow[web]``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import WebMonitor

__all__ = ["serve_web", "WebMonitor"]


def serve_web(manager: Any, address: str | int = "127.0.0.1:0", token: str | None = None,
              announce: bool = True, **kwargs: Any) -> "WebMonitor":
    """Start a :class:`WebMonitor` of ``manager`` on ``address`` ('[HOST:]PORT');
    prints where and the token (``announce``).  Close it with ``.close()``."""
    from .server import WebMonitor, parse_address
    host, port = parse_address(address)
    monitor = WebMonitor(manager, host, port, token=token, **kwargs)
    if announce:
        print(monitor.banner(), flush=True)
    return monitor


def __getattr__(name: str) -> Any:
    if name in ("WebMonitor", "parse_address"):
        from . import server
        return getattr(server, name)
    raise AttributeError(f"module 'acqflow.web' has no attribute {name!r}")
