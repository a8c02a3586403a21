"""RPC benchmark: sync, async and array calls beside bare pyzmq round trips (``acqflow bench rpc``).

Measures, against a spawned child process: sync calls/s, pipelined async
calls/s, and the round trip of a 4 MiB array argument that is returned (GB/s
of argument per round trip), next to bare pyzmq DEALER/ROUTER round trips
between two processes (the ceiling of a sync call) and the sync/bare ratio.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import zmq

from . import harness

__all__ = ["main", "BenchTarget", "TARGETS"]

TARGETS = {"sync_calls_per_s": 5000.0, "async_calls_per_s": 20000.0, "array_4mib_gb_per_s": 1.0,
           "sync_over_bare_zmq": 0.85}


class BenchTarget:
    """The object the benchmark calls in the child."""

    def add(self, a: int, b: int) -> int:
        return a + b

    def echo(self, x: Any) -> Any:
        return x


_RAW_ECHO = textwrap.dedent("""
    import sys, zmq
    s = zmq.Context.instance().socket(zmq.ROUTER)
    print(s.bind_to_random_port("tcp://127.0.0.1"), flush=True)
    while True:
        f = s.recv_multipart()
        if f[-1] == b"quit":
            break
        s.send_multipart(f)
""")


def raw_zmq_round_trips(n: int, repeats: int) -> list[float]:
    """Round trips/s of bare pyzmq DEALER/ROUTER between two processes (a sync call's ceiling)."""
    proc = subprocess.Popen([sys.executable, "-c", _RAW_ECHO], stdout=subprocess.PIPE, text=True)
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.linger = 0
    try:
        sock.connect(f"tcp://127.0.0.1:{int(proc.stdout.readline())}")

        def run() -> int:
            for _ in range(n):
                sock.send_multipart([b"msgpack", b"x" * 80])
                sock.recv_multipart()
            return n
        run()
        return harness.best_rates(run, repeats)
    finally:
        sock.send_multipart([b"quit"])
        sock.close()
        proc.wait(10)


def run_benchmarks(address: str = "tcp://127.0.0.1:*", repeats: int = 3,
                   scale: float = 1.0) -> dict[str, dict[str, float]]:
    """Run every measurement; ``{name: {best, median, target}}``."""
    from ..rpc.spawner import ProcessSpawner
    n_sync, n_async, n_arr = int(3000 * scale), int(20000 * scale), max(10, int(100 * scale))
    results: dict[str, list[float]] = {}
    proc = ProcessSpawner(name="rpc-bench", address=address)
    sync_rates: list[float] = []
    try:
        target = proc.client._import("acqflow.bench.rpc").BenchTarget()
        add, echo = target.add, target.echo

        def sync() -> int:
            for i in range(n_sync):
                add(i, 1)
            return n_sync

        def pipelined() -> int:
            futures = [add(i, 1, _sync="async") for i in range(n_async)]
            for f in futures:
                f.result()
            return n_async

        x = np.random.default_rng(0).random(4 * 2**20 // 8)

        def array() -> int:
            for _ in range(n_arr):
                y = echo(x)
            assert y.shape == x.shape
            return n_arr * x.nbytes

        sync()
        for _ in range(repeats):    # interleaved with bare round trips: the same moment's ceiling
            results.setdefault("raw_zmq_round_trips_per_s", []).extend(raw_zmq_round_trips(n_sync, 1))
            sync_rates.extend(harness.best_rates(sync, 1))
        results["sync_calls_per_s"] = sync_rates
        results["sync_over_bare_zmq"] = [s / b for s, b in zip(sync_rates, results["raw_zmq_round_trips_per_s"])]
        results["async_calls_per_s"] = harness.best_rates(pipelined, repeats)
        array()
        results["array_4mib_gb_per_s"] = [r / 1e9 for r in harness.best_rates(array, repeats)]
    finally:
        proc.stop()
    return {k: {"best": max(v), "median": statistics.median(v), "target": TARGETS.get(k)}
            for k, v in results.items()}


def format_table(results: dict[str, dict[str, float]]) -> str:
    """A text table: metric, best, median, target, verdict."""
    rows = [f"{'metric':<28}{'best':>12}{'median':>12}{'target':>10}  ok"]
    for name, r in results.items():
        target = r["target"]
        verdict = "" if target is None else ("yes" if r["best"] >= target else "NO")
        rows.append(f"{name:<28}{r['best']:>12.2f}{r['median']:>12.2f}"
                    f"{'' if target is None else f'{target:>10g}':>10}  {verdict}")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    """`acqflow bench rpc [--json FILE] [--address ADDR] [--repeats N] [--scale F]`."""
    p = harness.parser("rpc", __doc__)
    p.add_argument("--address", default="tcp://127.0.0.1:*", help="child server address")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--scale", type=float, default=1.0, help="multiply the call counts")
    args = p.parse_args([a for a in argv if a != "--rpc"])
    results = run_benchmarks(args.address, args.repeats, args.scale)
    print(format_table(results))
    harness.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
