"""`acqflow clock ADDRESS`: offset of an RPC server's clock to this one (acqflow.rpc.clocksync)."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from ..rpc.clocksync import ClockEstimator, probe

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """`acqflow clock ADDRESS [--keys DIR]`: offset of a remote clock."""
    p = argparse.ArgumentParser(
        prog="acqflow clock", description="Measure the offset of the clock of an RPC server "
        "(e.g. an `acqflow host` daemon) to this one.")
    p.add_argument("address", help="tcp://ADDR:PORT of the daemon or process")
    p.add_argument("--keys", default=None, help="keys directory made by `acqflow keys`")
    p.add_argument("--probes", type=int, default=50)
    args = p.parse_args(argv)
    from ..rpc import keys as keyfiles
    from ..rpc.client import get_client
    kw: dict[str, Any] = {}
    if args.keys:
        kw = dict(server_key=keyfiles.server_public_key(args.keys),
                  client_keys=keyfiles.load_client_keys(args.keys))
    client = get_client(args.address, timeout=10.0, **kw)
    rclock = client.import_module("acqflow.dataflow.streams.clock")
    est = ClockEstimator(window=args.probes, k=1)
    for _ in range(args.probes):
        est.add(*probe(lambda: rclock.now()))
    e = est.estimate()
    if e is None:
        print(f"{args.address}: no usable probe", file=sys.stderr)
        return 1
    print(f"{args.address} clock {rclock.clock_id()}: offset {e.offset * 1e3:+.3f} ms "
          f"± {e.uncertainty * 1e3:.3f} ms (remote - local, {args.probes} probes)")
    client.close()
    return 0

