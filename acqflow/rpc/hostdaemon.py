"""Host daemon: ``acqflow host`` spawns processes for managers.

By default it listens on an ipc socket in this user's private 0700 directory
(only this user can connect) and its children do too.  ``--bind tcp://ADDR:PORT``
needs CurveZMQ keys (``--keys DIR``), on loopback too: any local user can connect
to a loopback port.  Only ``--insecure`` lets a loopback tcp daemon run without
keys, with a warning at start.  Clients whose key is not authorised are refused
(and logged) before any request is read.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from ..dataflow.cpulatency import run_holding
from ..dataflow.paramcheck import refusal
from . import keys as keyfiles
from . import registry
from .client import RPCClient
from .private import private_address
from .proxy import ObjectProxy
from .security import is_loopback
from .server import RPCServer
from .spawner import ProcessSpawner

__all__ = ["Host", "HostClient", "RemoteProcess", "main"]

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


def main(argv: list[str]) -> int:
    """`acqflow host [--bind ADDRESS] [--keys DIR | --insecure]`."""
    p = argparse.ArgumentParser(
        prog="acqflow host",
        description="Serve spawn requests from managers: anyone who can connect runs code as this "
                    "user.  By default only this user can (a private ipc socket); tcp needs "
                    "CurveZMQ keys, on loopback too, or --insecure (loopback only).")
    p.add_argument("--bind", default=None,
                   help="address to listen on (default: an ipc socket in this user's private 0700 "
                        "directory; tcp://ADDR:PORT needs --keys, or --insecure on loopback)")
    p.add_argument("--keys", default=None, help="keys directory made by `acqflow keys`")
    p.add_argument("--insecure", action="store_true",
                   help="allow tcp on loopback without keys: every local user can then run code "
                        "as this user (a warning is printed)")
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--cpu-latency", type=int, metavar="US",
                   help="while serving, keep this machine's cores able to wake within US "
                        "microseconds (Linux PM QoS; 0 for closed loops; needs root)")
    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(processName)s %(name)s %(levelname)s: %(message)s")
    problem = _bind_problem(args.bind, args.keys, args.insecure)
    if problem:
        print(f"acqflow host: {problem}", file=sys.stderr)
        return 2
    return run_holding(args.cpu_latency, "acqflow host", lambda: _serve(args))


def _bind_problem(bind: str | None, keys: str | None, insecure: bool) -> str | None:
    """Why the daemon must not listen on ``bind`` with these options (None: it may)."""
    if bind is None or bind.startswith("ipc://"):
        return None
    if not bind.startswith("tcp://"):
        return refusal("--bind", "ipc://PATH or tcp://ADDR:PORT", bind)
    if keys is not None:
        return None
    if not is_loopback(bind):
        return (f"refusing to bind {bind} without CurveZMQ keys (create them with "
                f"`acqflow keys DIR` and pass --keys DIR)")
    if not insecure:
        return (f"refusing to bind {bind} without CurveZMQ keys: every local user could run code "
                f"as this user (pass --keys DIR, or --insecure to accept that, or omit --bind "
                f"for a private ipc socket)")
    return None


def _serve(args: argparse.Namespace) -> int:
    keys_dir = str(Path(args.keys).resolve()) if args.keys else None
    bind = args.bind or private_address("host")
    try:
        server = RPCServer(bind, keys_dir=keys_dir, name="host")
    except Exception as exc:
        print(f"acqflow host: cannot listen on {bind}: {exc}", file=sys.stderr)
        return 1
    host = Host(bind[6:].rsplit(":", 1)[0] if bind.startswith("tcp://") else None, keys_dir)
    server["host"] = host
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.request_close())
    if bind.startswith("tcp://") and keys_dir is None:
        print(f"acqflow host: WARNING: --insecure: {server.address} has no keys; every local user "
              f"can run code as uid {os.getuid()} through it", file=sys.stderr, flush=True)
    print(f"acqflow host listening on {server.address}"
          f"{' (CurveZMQ)' if keys_dir else ''}", flush=True)
    try:
        server.run_forever()
    finally:
        host.shutdown()
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
