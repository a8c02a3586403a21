"""RPC benchmark: sync, async and array calls beside bare pyzmq round trips (``acqflow bench rpc``).

Measures, against a spawned child process: sync calls/s, pipelined async
calls/s, and the round trip of a 4 MiB array argument that is returned (GB/s
of argument per round trip), next to bare pyzmq DEALER/ROUTER round trips
between two processes (the ceiling of a sync call) and the sync/bare ratio.
Sync calls and bare round trips run in alternating blocks (``--block``, 300)
against two children alive at once, each side's time summed over the blocks:
on a noisy machine both see the same moments, so their ratio is fair.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import textwrap
import time
from typing import Any, Callable

import numpy as np
import zmq

from ..dataflow.paramcheck import refusal
from . import harness

__all__ = ["main", "BenchTarget", "BareEcho", "alternating", "TARGETS"]

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


class BareEcho:
    """A bare pyzmq ROUTER echo in a child process and a DEALER to it: a sync call's ceiling."""

    def __init__(self) -> None:
        # started like the RPC child (same interpreter, unbuffered), alive beside it
        self.proc = subprocess.Popen([sys.executable, "-u", "-c", _RAW_ECHO], stdout=subprocess.PIPE,
                                     text=True)
        self.sock: zmq.Socket[bytes] = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        assert self.proc.stdout is not None
        self.sock.connect(f"tcp://127.0.0.1:{int(self.proc.stdout.readline())}")

    def round_trips(self, n: int) -> int:
        """``n`` round trips of an 80-byte message (about a sync call's request); returns ``n``."""
        sock, payload = self.sock, b"x" * 80
        for _ in range(n):
            sock.send_multipart([b"msgpack", payload])
            sock.recv_multipart()
        return n

    def close(self) -> None:
        self.sock.send_multipart([b"quit"])
        self.sock.close()
        self.proc.wait(10)


def alternating(a: Callable[[int], int], b: Callable[[int], int], n: int,
                block: int) -> tuple[float, float]:
    """Seconds spent in ``a`` and in ``b``, each run for ``n`` items in alternating blocks
    of ``block`` (a, b, b, a, a, b, ...): both sides see the same moments of a noisy machine."""
    times = [0.0, 0.0]
    fns = (a, b)
    done, k = 0, 0
    while done < n:
        m = min(block, n - done)
        for side in ((0, 1) if k % 2 == 0 else (1, 0)):
            t0 = time.perf_counter()
            fns[side](m)
            times[side] += time.perf_counter() - t0
        done += m
        k += 1
    return times[0], times[1]


def run_benchmarks(address: str = "tcp://127.0.0.1:*", repeats: int = 3,
                   scale: float = 1.0, block: int = 300) -> dict[str, dict[str, float | None]]:
    """Run every measurement; ``{name: {best, median, target}}``."""
    from ..rpc.spawner import ProcessSpawner
    n_sync, n_async, n_arr = int(3000 * scale), int(20000 * scale), max(10, int(100 * scale))
    n_sync = max(n_sync, 1)
    results: dict[str, list[float]] = {}
    proc = ProcessSpawner(name="rpc-bench", address=address)
    bare = None
    try:
        target = proc.client.import_module("acqflow.bench.rpc").BenchTarget()
        add, echo = target.add, target.echo
        bare = BareEcho()

        def sync(n: int) -> int:
            for i in range(n):
                add(i, 1)
            return n

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

        sync(min(n_sync, block))    # warm up both paths
        bare.round_trips(min(n_sync, block))
        for _ in range(repeats):    # sync calls and bare round trips in alternating blocks
            t_sync, t_bare = alternating(sync, bare.round_trips, n_sync, block)
            results.setdefault("raw_zmq_round_trips_per_s", []).append(n_sync / t_bare)
            results.setdefault("sync_calls_per_s", []).append(n_sync / t_sync)
            results.setdefault("sync_over_bare_zmq", []).append(t_bare / t_sync)
        results["async_calls_per_s"] = harness.best_rates(pipelined, repeats)
        array()
        results["array_4mib_gb_per_s"] = [r / 1e9 for r in harness.best_rates(array, repeats)]
    finally:
        if bare is not None:
            bare.close()
        proc.stop()
    return {k: {"best": max(v), "median": statistics.median(v), "target": TARGETS.get(k)}
            for k, v in results.items()}


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """A text table: metric, best, median, target, verdict."""
    rows = [f"{'metric':<28}{'best':>12}{'median':>12}{'target':>10}  ok"]
    for name, r in results.items():
        target = r["target"]
        verdict = "" if target is None else ("yes" if r["best"] >= target else "NO")
        rows.append(f"{name:<28}{r['best']:>12.2f}{r['median']:>12.2f}"
                    f"{'' if target is None else f'{target:>10g}':>10}  {verdict}")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    """`acqflow bench rpc [--json FILE] [--address ADDR] [--repeats N] [--scale F] [--block N]`."""
    p = harness.parser("rpc", __doc__)
    p.add_argument("--address", default="tcp://127.0.0.1:*", help="child server address")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--scale", type=float, default=1.0, help="multiply the call counts")
    p.add_argument("--block", type=int, default=300,
                   help="sync calls and bare round trips alternate in blocks of this many")
    args = p.parse_args([a for a in argv if a != "--rpc"])
    if args.block < 1:
        p.error(refusal("--block", "an int >= 1", args.block))
    results = run_benchmarks(args.address, args.repeats, args.scale, args.block)
    print(format_table(results))
    harness.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
