"""`acqflow host`: serve spawn requests from remote managers (acqflow.rpc.hostdaemon)."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from ..dataflow.paramcheck import refusal
from ..dataflow.streams.cpulatency import run_holding
from ..rpc.hostdaemon import Host
from ..rpc.private import private_address
from ..rpc.security import is_loopback
from ..rpc.server import RPCServer

__all__ = ["main"]


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

