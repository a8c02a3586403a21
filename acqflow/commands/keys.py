"""`acqflow keys DIR`: create CurveZMQ server and client key pairs (acqflow.rpc.keys)."""
from __future__ import annotations

import argparse

from ..rpc.keys import authorized_dir, generate

__all__ = ["main"]


def main(argv: list[str]) -> int:
    """`acqflow keys DIR [--client NAME] [--force]`."""
    p = argparse.ArgumentParser(prog="acqflow keys",
                                description="Create CurveZMQ server and client key pairs.")
    p.add_argument("dir", help="keys directory (created if missing)")
    p.add_argument("--client", default="client", help="name of the client key pair to add")
    p.add_argument("--force", action="store_true", help="replace existing key pairs")
    args = p.parse_args(argv)
    d = generate(args.dir, client=args.client, force=args.force)
    print(f"server keys: {d / 'server.key'} (+ secret)")
    print(f"client keys: {d / (args.client + '.key')} (+ secret), "
          f"authorised in {authorized_dir(d)}")
    return 0

