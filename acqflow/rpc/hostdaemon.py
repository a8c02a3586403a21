"""Host daemon: ``acqflow host --bind tcp://ADDR:PORT --keys DIR`` spawns processes for
remote managers.  Anything but a loopback address requires CurveZMQ keys; clients
whose key is not authorised are refused (and logged) before any request is read.
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
from . import keys as keyfiles
from . import registry
from .client import RPCClient
from .proxy import ObjectProxy
from .security import is_loopback
from .server import RPCServer
from .spawner import ProcessSpawner

__all__ = ["Host", "HostClient", "RemoteProcess", "main"]

logger = logging.getLogger("acqflow.rpc.host")


class Host:
    """Published as ``'host'`` by the daemon: starts and stops child processes."""

    def __init__(self, interface: str, keys_dir: str | None):
        self.interface = interface
        self.keys_dir = keys_dir
        self._children: dict[str, ProcessSpawner] = {}

    def spawn(self, name: str | None = None, qt: bool = False, imports: Sequence[str] = ()) -> dict:
        """Start a process serving RPC on this host's interface; its connection info."""
        if name in self._children and self._children[name].alive:
            raise ValueError(f"a process named {name!r} already runs here")
        proc = ProcessSpawner(name=name, qt=qt, address=f"tcp://{self.interface}:*",
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
    """`acqflow host --bind tcp://ADDR:PORT --keys DIR`."""
    p = argparse.ArgumentParser(prog="acqflow host", description="Serve spawn requests from "
                                "remote managers (CurveZMQ required off loopback).")
    p.add_argument("--bind", default="tcp://127.0.0.1:*", help="address to listen on")
    p.add_argument("--keys", default=None, help="keys directory made by `acqflow keys`")
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--cpu-latency", type=int, metavar="US",
                   help="while serving, keep this machine's cores able to wake within US "
                        "microseconds (Linux PM QoS; 0 for closed loops; needs root)")
    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(processName)s %(name)s %(levelname)s: %(message)s")
    if not args.bind.startswith("tcp://"):
        print("acqflow host: --bind must be tcp://ADDR:PORT", file=sys.stderr)
        return 2
    if not is_loopback(args.bind) and args.keys is None:
        print(f"acqflow host: refusing to bind {args.bind} without CurveZMQ keys "
              "(create them with `acqflow keys DIR` and pass --keys DIR)", file=sys.stderr)
        return 2
    return run_holding(args.cpu_latency, "acqflow host", lambda: _serve(args))


def _serve(args: argparse.Namespace) -> int:
    keys_dir = str(Path(args.keys).resolve()) if args.keys else None
    try:
        server = RPCServer(args.bind, keys_dir=keys_dir, name="host")
    except Exception as exc:
        print(f"acqflow host: cannot listen on {args.bind}: {exc}", file=sys.stderr)
        return 1
    host = Host(args.bind[6:].rsplit(":", 1)[0], keys_dir)
    server["host"] = host
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.request_close())
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
