"""Hooks: a lower layer calls what a higher layer provides, without importing it.

The one injection mechanism of acqflow: no module sets another's callables.

Layers import one way (docs/extending.md, "Layers and hooks").  Where a lower layer
has to start something of a higher one (``Manager.serve_web`` the web monitor,
``acqflow run --monitor`` the Qt graph window), it asks this registry by name;
the provider is registered with :func:`provide` by the package root
(acqflow/__init__.py, which sits above every layer and loads each provider only
when it is first asked for, so Qt and aiohttp stay unimported), or by anyone
who replaces it.  A leaf module, like ``acqflow.errors``: every layer may import it.
"""
from __future__ import annotations

from typing import Any, Callable

from .errors import Error

__all__ = ["WEB_MONITOR", "GRAPH_WINDOW", "RPC_CLIENT", "MissingHook", "provide", "get", "provided"]

#: ``serve_web(manager, address, token=None, announce=True, **kwargs) -> WebMonitor``
#: (acqflow.web.serve_web), called by ``Manager.serve_web``.
WEB_MONITOR = "web_monitor"
#: ``run_graph_with_monitor(run_graph, *args, stop, **kwargs) -> int``
#: (acqflow.viewers.monitor), called by ``acqflow run --monitor``.
GRAPH_WINDOW = "graph_window"
#: ``client_for(address, server_key=None) -> RPCClient`` (acqflow.rpc.client), called by
#: ObjectProxy (acqflow.rpc.proxy, which client.py imports) for its thread's client.
RPC_CLIENT = "rpc_client"

# name -> loader: a no-argument callable returning the implementation, called on get() until it
# succeeds, so that a missing extra is reported when the hook is asked for, before anything
# starts, as an ImportError naming the extra.
_loaders: dict[str, Callable[[], Callable[..., Any]]] = {}
# name -> (loader, what it returned): get() is on the RPC proxies' call path
_loaded: dict[str, tuple[Callable[[], Callable[..., Any]], Callable[..., Any]]] = {}


class MissingHook(Error, LookupError):
    """No provider is registered for a hook (acqflow/__init__.py registers the standard ones)."""


def provide(name: str, load: Callable[[], Callable[..., Any]]) -> None:
    """Register (or replace) the provider of hook ``name``: ``load()`` returns the
    implementation (importing it then, so an upper layer is imported only when used)."""
    if not callable(load):
        raise TypeError(f"hooks.provide({name!r}, ...): the loader must be callable, "
                        f"got {type(load).__name__}")
    _loaders[name] = load


def get(name: str) -> Callable[..., Any]:
    """The implementation of hook ``name``.  Raises :class:`MissingHook` if none is
    registered, and the loader's ImportError (naming the extra) if its package is missing."""
    try:
        load = _loaders[name]
    except KeyError:
        known = ", ".join(sorted(_loaders)) or "none"
        raise MissingHook(f"no provider for hook {name!r} (registered: {known}); "
                          f"acqflow.hooks.provide({name!r}, loader) registers one") from None
    hit = _loaded.get(name)
    if hit is not None and hit[0] is load:
        return hit[1]
    implementation = load()
    _loaded[name] = (load, implementation)
    return implementation


def provided() -> list[str]:
    """The names of the hooks that have a provider."""
    return sorted(_loaders)
