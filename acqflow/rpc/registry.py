"""Process-wide registry of RPC servers: by address, and the one serving each thread."""
from __future__ import annotations

import threading
from typing import Any

__all__ = ["register", "unregister", "by_address", "set_thread_server", "thread_server",
           "serving_server", "mark_forever", "new_server_at", "generation"]

_lock = threading.Lock()
_by_address: dict[str, Any] = {}
_forever: list[Any] = []
_local = threading.local()
_generations: dict[str, int] = {}   # address -> servers known to have started there


def new_server_at(address: str) -> None:
    """Note that a new server listens at ``address`` (a port can be reused): clients
    made for an earlier server there are not reused, in any thread."""
    with _lock:
        _generations[address] = _generations.get(address, 0) + 1


def generation(address: str) -> int:
    """How many servers this process has seen start at ``address``."""
    return _generations.get(address, 0)


def register(server: Any) -> None:
    """Make ``server`` findable by its address (so proxies to it resolve locally)."""
    new_server_at(server.address)
    with _lock:
        _by_address[server.address] = server


def unregister(server: Any) -> None:
    """Forget a closed server."""
    with _lock:
        address = getattr(server, "address", None)
        if address is not None and _by_address.get(address) is server:
            del _by_address[address]
        if server in _forever:
            _forever.remove(server)
    if getattr(_local, "server", None) is server:
        _local.server = None


def by_address(address: str) -> Any | None:
    """The server of this process listening at ``address``, if any."""
    return _by_address.get(address)


def set_thread_server(server: Any | None) -> None:
    """Declare ``server`` as the one serving the current thread (run_lazy/run_forever)."""
    _local.server = server


def thread_server() -> Any | None:
    """The server serving the current thread, if any."""
    return getattr(_local, "server", None)


def mark_forever(server: Any) -> None:
    """Record that ``server`` runs a loop in some thread (a fallback for proxying objects)."""
    with _lock:
        if server not in _forever:
            _forever.append(server)


def serving_server() -> Any | None:
    """The server to publish local objects with: this thread's, else one running forever."""
    server = getattr(_local, "server", None)
    if server is not None and not server.closed:
        return server
    with _lock:
        for s in _forever:
            if not s.closed:
                return s
    return None
