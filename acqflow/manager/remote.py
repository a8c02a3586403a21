"""Node groups on other machines, through `acqflow host` daemons."""
from __future__ import annotations

import logging

from ..rpc.hostdaemon import HostClient

__all__ = ["RemoteGroupProcess", "spawn_on_host"]

log = logging.getLogger("acqflow.manager")


class RemoteGroupProcess:
    """A group process started by a host daemon, with the ProcessSpawner interface
    the Manager uses (``client``, ``pid``, ``exit_code``, ``alive``, ``stop``, ``kill``).

    The exit code comes from the daemon; if the daemon itself cannot be reached
    the process counts as lost (exit code -1), so its nodes are marked in error.
    """

    def __init__(self, host: HostClient, name: str, qt: bool):
        self.host = host
        self.process = host.spawn(name, qt)
        self.name, self.pid = self.process.name, self.process.pid

    @property
    def client(self):
        return self.process.client

    @property
    def exit_code(self) -> int | None:
        try:
            listing = self.host.host.list(_timeout=2.0)
        except Exception as exc:
            log.warning("host daemon for %s unreachable: %s", self.name, exc)
            return -1
        for entry in listing:
            if entry["name"] == self.name:
                return entry["exit_code"]
        return -1

    @property
    def alive(self) -> bool:
        return self.exit_code is None

    def stop(self, timeout: float = 10.0) -> int:
        try:
            return self.process.stop(timeout)
        except Exception as exc:
            log.warning("stopping %s on its host: %s", self.name, exc)
            return -1

    def kill(self) -> int:
        try:
            return self.process.kill()
        except Exception as exc:
            log.warning("killing %s on its host: %s", self.name, exc)
            return -1


def spawn_on_host(host: dict, name: str, qt: bool = False) -> RemoteGroupProcess:
    """Start a group process on the host described by ``Manager.add_host`` options."""
    client = host.get("client")
    if client is None:
        client = host["client"] = HostClient(host["address"], keys_dir=host.get("keys_dir"))
    return RemoteGroupProcess(client, name, qt)
