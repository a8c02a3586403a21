"""pyacq's ``Manager`` and ``create_manager``: hosts and node groups, here or in a process.

``create_manager('rpc')`` starts the Manager in its own process and returns a proxy;
``create_manager('local')`` makes it here (with an RPC server, so hosts and groups can
reach it).  Node groups start on the Manager's default host (a :class:`Host` in the
Manager's process) or on a host given by address or proxy.  acqflow's own
:class:`acqflow.Manager` adds restart and monitoring; this one keeps pyacq's API.
"""
from __future__ import annotations

import atexit
import logging
from typing import Any

from ....dataflow.paramcheck import must_be, one_of
from ....rpc import ProcessSpawner, RPCClient, RPCServer
from ....rpc import registry as rpc_registry
from .host import Host

__all__ = ["Manager", "create_manager"]

log = logging.getLogger(__name__)
_processes: list[ProcessSpawner] = []     # manager processes, kept until exit


def create_manager(mode: str = "rpc", auto_close_at_exit: bool = True):
    """A new Manager: in a new process (``'rpc'``, a proxy is returned) or here (``'local'``).

    With ``auto_close_at_exit`` the Manager closes its node groups when this process exits.
    """
    one_of("local", "rpc")("mode", mode)
    if mode == "local":
        if rpc_registry.thread_server() is None:
            RPCServer().run_lazy()
        man = Manager()
    else:
        proc = ProcessSpawner(name="manager_proc")
        _processes.append(proc)
        man = proc.client._import(__name__).Manager()
    if auto_close_at_exit:
        atexit.register(_close_quietly, man)
    return man


def _close_quietly(man) -> None:
    try:
        man.close()
    except Exception as exc:   # noqa: BLE001 - at exit the process may already be gone
        log.debug("closing the manager at exit: %s", exc)


class Manager:
    """Central point of control: connects to hosts and creates node groups on them."""

    def __init__(self):
        self.hosts: dict[str, Any] = {}        # address -> Host proxy
        self.nodegroups: dict[str, Any] = {}   # name -> NodeGroup proxy
        self._group_hosts: dict[str, Any] = {}  # name -> the Host it runs on
        self.default_host = Host("default_host")
        self._next_nodegroup_name = 0
        server = rpc_registry.thread_server()
        if server is not None:
            server["manager"] = self
        atexit.register(self.close)

    def get_host(self, addr: str):
        """Connect to the Host published at ``addr`` (an RPC server address); its proxy."""
        if addr not in self.hosts:
            try:
                self.hosts[addr] = RPCClient.get_client(addr).get("host")
            except TimeoutError:
                raise TimeoutError(f"no response from host at {addr}") from None
            except Exception as exc:
                raise ValueError(f"contacted {addr}, but found no Host there ({exc})") from exc
        return self.hosts[addr]

    def list_hosts(self) -> list:
        """The Hosts this Manager is connected to."""
        return list(self.hosts.values())

    def disconnect_host(self, host) -> None:
        """Close the node groups of ``host`` and forget it, and them (closing this Manager
        later does not call the closed groups)."""
        host.close_all_nodegroups()
        for addr, h in list(self.hosts.items()):
            if h == host:
                del self.hosts[addr]
        for name, h in list(self._group_hosts.items()):
            if h == host:
                del self._group_hosts[name]
                self.nodegroups.pop(name, None)

    def create_nodegroup(self, name: str | None = None, host: Any = None, qt: bool = True,
                         **kwds: Any):
        """Start a node-group process on ``host`` (address, Host proxy, or None: the default
        host) with a QApplication when ``qt``; a proxy to its NodeGroup."""
        if name is None:
            name = f"nodegroup_{self._next_nodegroup_name}"
            self._next_nodegroup_name += 1
        if not isinstance(name, str):
            must_be("node group name", "a str", name, TypeError)
        if name in self.nodegroups:
            raise KeyError(f"a node group named {name!r} already exists")
        if isinstance(host, str):
            host = self.get_host(host)
        if host is None:
            host = self.default_host
        ng = host.create_nodegroup(name=name, manager=self, qt=qt, **kwds)
        self.nodegroups[name] = ng
        self._group_hosts[name] = host
        return ng

    def list_nodegroups(self) -> list:
        return list(self.nodegroups.values())

    def start_all_nodes(self) -> None:
        for ng in self.nodegroups.values():
            ng.start_all_nodes()

    def stop_all_nodes(self) -> None:
        for ng in self.nodegroups.values():
            ng.stop_all_nodes()

    def close_all_nodegroups(self) -> None:
        """Close every node group (their processes end)."""
        for name, ng in self.nodegroups.items():
            try:
                ng.close()
            except Exception as exc:   # noqa: BLE001 - a group already gone is closed
                log.debug("closing node group %s: %s", name, exc)
        self.nodegroups = {}
        self._group_hosts = {}
        self.default_host.close_all_nodegroups()     # reaps the processes it started

    def close(self) -> None:
        """Close every node group this Manager started."""
        self.close_all_nodegroups()
