"""Host daemon: ``acqflow host`` spawns processes for managers.

By default it listens on an ipc socket in this user's private 0700 directory
(only this user can connect) and its children do too.  ``--bind tcp://ADDR:PORT``
needs CurveZMQ keys (``--keys DIR``), on loopback too: any local user can connect
to a loopback port.  Only ``--insecure`` lets a loopback tcp daemon run without
keys, with a warning at start.  Clients whose key is not authorised are refused
(and logged) before any request is read.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from . import keys as keyfiles
from . import registry
from .client import RPCClient
from .proxy import ObjectProxy
from .spawner import ProcessSpawner

__all__ = ["Host", "HostClient", "RemoteProcess"]

logger = logging.getLogger(__spec__.name if __spec__ else __name__)   # its module name under -m too


class Host:
    """Published as ``'host'`` by the daemon: starts and stops child processes (on
    ``interface`` over tcp, or on private ipc sockets when it is None)."""

    def __init__(self, interface: str | None, keys_dir: str | None):
        self.interface = interface
        self.keys_dir = keys_dir
        self._children: dict[str, ProcessSpawner] = {}

    def spawn(self, name: str | None = None, qt: bool = False, imports: Sequence[str] = ()) -> dict:
        """Start a process serving RPC on this host's interface; its connection info."""
        if name in self._children and self._children[name].alive:
            raise ValueError(f"a process named {name!r} already runs here")
        address = None if self.interface is None else f"tcp://{self.interface}:*"
        proc = ProcessSpawner(name=name, qt=qt, address=address,
                              keys_dir=self.keys_dir, imports=list(imports))
        self._children[proc.name] = proc
        logger.info("spawned %s (pid %d) at %s", proc.name, proc.pid, proc.address)
        return {"name": proc.name, "address": proc.address, "pid": proc.pid,
                "server_key": proc.server_key}

    def stop(self, name: str, timeout: float = 10.0) -> int:
        """Stop a child; its exit code."""
        return self._children.pop(name).stop(timeout)

    def kill(self, name: str) -> int:
        """Kill a child; its exit code."""
        return self._children.pop(name).kill()

    def list(self) -> list[dict]:
        """The children started here."""
        return [{"name": n, "pid": p.pid, "address": p.address, "exit_code": p.exit_code}
                for n, p in self._children.items()]

    def shutdown(self) -> None:
        """Stop every child."""
        for name in list(self._children):
            try:
                self.stop(name, timeout=5.0)
            except Exception:
                logger.exception("could not stop %s", name)


class RemoteProcess:
    """A process started by a host daemon, seen from the manager."""

    def __init__(self, host: HostClient, info: dict):
        self.host = host
        self.name: str = info["name"]
        self.address: str = info["address"]
        registry.new_server_at(self.address)   # the port may have served another
        self.pid: int = info["pid"]
        self.server_key: str | None = info.get("server_key")

    @property
    def client(self) -> RPCClient:
        """This thread's client to the process."""
        return RPCClient.get_client(self.address, server_key=self.server_key,
                                    client_keys=self.host.client_keys)

    def stop(self, timeout: float = 10.0) -> int:
        """Ask its host to stop it."""
        return self.host.host.stop(self.name, timeout, _timeout=timeout + 10)

    def kill(self) -> int:
        """Ask its host to kill it."""
        return self.host.host.kill(self.name)


class HostClient:
    """Manager-side connection to a host daemon (Curve keys from ``keys_dir``)."""

    def __init__(self, address: str, keys_dir: str | os.PathLike | None = None, *,
                 client_name: str = "client", server_key: str | bytes | None = None,
                 client_keys: keyfiles.KeyPair | None = None, timeout: float = 30.0):
        if keys_dir is not None:
            server_key = server_key or keyfiles.server_public_key(keys_dir)
            client_keys = client_keys or keyfiles.load_client_keys(keys_dir, client_name)
        if client_keys is not None and server_key:
            # proxies to this host's processes (which share its server key), wherever
            # they come from, need them; the first pair also becomes the default
            keyfiles.set_client_keys_for(server_key, client_keys)
            if keyfiles.default_client_keys() is None:
                keyfiles.set_default_client_keys(client_keys)
        self.client_keys = client_keys
        self.client = RPCClient.get_client(address, server_key=server_key, client_keys=client_keys,
                                           timeout=timeout)
        self.host: ObjectProxy = self.client.get("host")

    def spawn(self, name: str | None = None, qt: bool = False,
              imports: Sequence[str] = ()) -> RemoteProcess:
        """Start a process on the host."""
        return RemoteProcess(self, self.host.spawn(name, qt, list(imports)))

    def list(self) -> list[dict]:
        """Processes running on the host."""
        return self.host.list()
