"""pyacq's ``Host``: a process that spawns node-group processes, on acqflow's host daemon.

A Host is an :class:`acqflow.rpc.hostdaemon.Host` (same ``spawn``/``stop``/``kill``/``list``,
published as ``'host'``) that also creates a :class:`NodeGroup` in each process it starts.
``Host.spawn(name)`` starts a process running one and returns ``(process, host proxy)``.
"""
from __future__ import annotations

import logging
from typing import Any

from ....rpc import ProcessSpawner
from ....rpc import hostdaemon
from ....rpc import registry as rpc_registry

__all__ = ["Host"]

log = logging.getLogger(__name__)

_COMPAT = __name__.rsplit(".", 2)[0]                    # acqflow.compat.pyacq
_NODEGROUP_MODULE = _COMPAT + ".core.nodegroup"


class _SpawnMethod:
    """``Host.spawn(name)`` on the class is pyacq's (a new host process); ``host.spawn(name,
    qt, imports)`` on an instance stays the daemon's, so acqflow Managers can use it."""

    def __init__(self, on_class):
        self.on_class = on_class

    def __get__(self, obj, cls=None):
        if obj is None:
            return self.on_class
        return hostdaemon.Host.spawn.__get__(obj, cls)


def _spawn_host(name: str, **kwds: Any) -> tuple[ProcessSpawner, Any]:
    """Start a process holding a Host named ``name``: ``(process, proxy to the Host)``."""
    proc = ProcessSpawner(name=name, **kwds)
    host = proc.client._import(__name__).Host(name)
    return proc, host


class Host(hostdaemon.Host):
    """Spawns and closes node groups on this machine (``interface`` and ``keys_dir`` as the
    host daemon's: a non-loopback interface needs CurveZMQ keys)."""

    spawn = _SpawnMethod(_spawn_host)

    def __init__(self, name: str, poll_procs: bool = False, interface: str | None = None,
                 keys_dir: str | None = None):
        super().__init__(interface, keys_dir)
        self.name = name
        self.spawners: list[Any] = []
        server = rpc_registry.thread_server()
        if server is not None:      # published, so a Manager finds it at the server's address
            server["host"] = self

    def create_nodegroup(self, name: str | None = None, manager: Any = None, qt: bool = True,
                         **kwds: Any):
        """Start a process (a Qt one with ``qt``) holding a new NodeGroup; a proxy to it.

        pyacq passes extra keywords (``log_addr``, ``log_level``) to its spawner: acqflow's
        spawner forwards logging by itself, so they are accepted and ignored.
        """
        if kwds:
            log.debug("Host.create_nodegroup: ignoring %s", ", ".join(kwds))
        info = self.spawn(name, qt, [_NODEGROUP_MODULE])
        proc: Any = self._children[info["name"]]     # carries pyacq's _nodegroup and _manager too
        try:
            proc.client._import(_COMPAT).install()     # pyacq there too, and in its children
            rng = proc.client._import(_NODEGROUP_MODULE)
            proc._nodegroup = rng.NodeGroup(host=self, manager=manager, name=info["name"])
        except BaseException:
            self.kill(info["name"])
            raise
        proc._manager = manager
        self.spawners.append(proc)
        return proc._nodegroup

    def close_all_nodegroups(self, force: bool = False) -> None:
        """Close (or with ``force`` kill) every node-group process started here."""
        for proc in self.spawners:
            if proc.name not in self._children:
                continue
            try:
                self.kill(proc.name) if force else self.stop(proc.name, timeout=10.0)
            except Exception as exc:       # noqa: BLE001 - the others still get closed
                log.warning("closing node group %s: %s", proc.name, exc)
        self.spawners = []
