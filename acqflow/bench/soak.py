"""Soak test: ``acqflow bench soak MINUTES [--json FILE]`` (or ``--soak MINUTES``).

Runs a 3-group graph (3 processes: source -> relay -> sink, sharedmem,
``backpressure='block'``) at a target aggregate rate (default 100 MB/s: the sum
of what the graph's two streams carry, 50 MB/s each) and checks at the end:

- zero lost samples: every index arrives once, in order, with the exact value
  of a counter pattern (sample ``i``, channel ``c`` holds ``i * nchan + c``),
  and no input reports gaps or drops;
- memory: each process's RSS grows by less than ``--rss-bound`` MiB between the
  end of the warm-up and the end;
- no leaked file descriptors in this (manager) process, every group process has
  exited, and no shared-memory segment is left in /dev/shm.

It prints a summary and exits 1 when any check fails.  The node types
(SoakSource, SoakRelay, SoakSink) live in :mod:`acqflow.bench.soaknodes`, imported
in the group processes only when the soak runs (fault tests import it too).
"""
from __future__ import annotations

import gc
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any

import psutil

from ..dataflow.paramcheck import refusal
from ..rpc import get_value
from . import harness

if TYPE_CHECKING:
    from ..manager.manager import ManagerStats

__all__ = ["run_soak", "main", "rss_mib", "fd_count", "open_fds", "shm_segments"]

log = logging.getLogger(__name__)
MODULE = "acqflow.bench.soaknodes"   # the node types, imported in each group when the soak runs


# -- process checks -------------------------------------------------------------
def rss_mib(pid: int) -> float | None:
    """Resident set size of ``pid`` in MiB (None if it is gone)."""
    try:
        return psutil.Process(pid).memory_info().rss / 2**20
    except psutil.Error:
        return None


def fd_count(pid: int | None = None) -> int:
    """How many file descriptors a process (default: this one) has open."""
    return psutil.Process(pid).num_fds()


def open_fds(pid: int | None = None) -> dict[int, str]:
    """The open files and sockets of a process, fd -> what it is (for naming a leak;
    pipes and eventfds are counted by :func:`fd_count` but not named)."""
    proc = psutil.Process(pid)
    named = {f.fd: f.path for f in proc.open_files()}
    for c in proc.net_connections(kind="all"):
        if c.fd >= 0:
            where = c.laddr if isinstance(c.laddr, str) else ":".join(map(str, c.laddr))
            named[c.fd] = f"socket {c.family.name} {where or '-'}"
    return named


def shm_segments(pids) -> set[str]:
    """acqflow shared-memory segments in /dev/shm created by one of ``pids``
    (segment names start with ``acqflow_<creator pid>_``)."""
    prefixes = tuple(f"acqflow_{pid}_" for pid in pids)
    try:
        return {n for n in os.listdir("/dev/shm") if n.startswith(prefixes)}
    except FileNotFoundError:
        return set()


# -- the soak -------------------------------------------------------------------
def _build(manager, rate: float, nchan: int, chunk: int, buffer_size: int) -> None:
    out = dict(protocol="tcp", transfermode="sharedmem", backpressure="block", buffer_size=buffer_size)
    groups = {}
    for gname in ("soak-source", "soak-relay", "soak-sink"):
        groups[gname] = manager.create_nodegroup(gname)
        groups[gname].import_module(MODULE)
    src = groups["soak-source"].create_node("SoakSource", "source")
    src.configure(rate=rate, nchan=nchan, chunk=chunk)
    src.outputs["signals"].configure(**out)
    src.initialize()
    relay = groups["soak-relay"].create_node("SoakRelay", "relay")
    relay.configure()
    relay.inputs["input"].connect(src.outputs["signals"])
    relay.outputs["output"].configure(**out)
    relay.initialize()
    sink = groups["soak-sink"].create_node("SoakSink", "sink")
    sink.configure(check=True)
    sink.inputs["input"].connect(relay.outputs["output"])
    sink.initialize()


def _input_samples(stats: ManagerStats, group: str, node: str) -> int:
    return stats.groups[group]["nodes"][node]["inputs"]["input"]["samples"]


def _settled_fds(baseline: int, timeout: float = 5.0) -> int:
    """This process's descriptor count once closing has settled: ZeroMQ frees a closed
    socket's descriptors in its own thread, after up to LINGER (1 s) for unsent messages."""
    deadline = time.monotonic() + timeout
    while True:
        gc.collect()             # objects of finished threads may sit in reference cycles
        count = fd_count()
        if count <= baseline or time.monotonic() > deadline:
            return count
        time.sleep(0.1)


def _prime() -> None:
    """Create what a process makes once and keeps (ZeroMQ's I/O thread, the child-log
    receiver), so that the descriptor count before the run is a fair baseline."""
    import zmq
    from ..rpc import ProcessSpawner

    zmq.Context.instance().socket(zmq.PAIR).close()
    ProcessSpawner(name="soak-prime").stop()


def run_soak(seconds: float, mb_per_s: float = 100.0, nchan: int = 16, chunk: int = 4096,
             warmup: float | None = None, rss_bound_mib: float = 32.0, buffer_mib: float = 16.0,
             out=None) -> dict[str, Any]:
    """Run the soak for ``seconds`` (after ``warmup``) and return the results and checks.

    ``mb_per_s`` is the aggregate target: each of the two streams carries half.
    """
    from ..manager import Manager

    if seconds <= 0 or mb_per_s <= 0:
        raise ValueError(f"soak needs seconds > 0 and mb_per_s > 0 (got {seconds!r}, {mb_per_s!r})")
    warmup = min(10.0, max(2.0, 0.2 * seconds)) if warmup is None else float(warmup)
    sample_bytes = nchan * 8
    rate = mb_per_s / 2 * 1e6 / sample_bytes
    buffer_size = max(2 * chunk, int(buffer_mib * 2**20) // sample_bytes)
    _prime()
    fds_before, named_before = fd_count(), open_fds()
    res: dict[str, Any] = {"target_mb_per_s": mb_per_s, "seconds": seconds, "warmup_s": warmup,
                           "nchan": nchan, "chunk": chunk, "rate_hz_per_stream": rate,
                           "rss_bound_mib": rss_bound_mib, "buffer_mib": buffer_mib, "checks": {}}
    pids: dict[str, int] = {}
    rss: dict[str, list[tuple[float, float]]] = {}
    with Manager(heartbeat=0.5) as manager:
        _build(manager, rate, nchan, chunk, buffer_size)
        pids = {g: h.pid for g, h in manager.groups.items()}
        manager.start_all()
        t_start = time.monotonic()
        deadline, t_warm, n_warm = t_start + warmup + seconds, None, None
        while True:
            now = time.monotonic()
            if t_warm is None and now - t_start >= warmup:
                st = manager.stats()
                t_warm, n_warm = now, (_input_samples(st, "soak-relay", "relay"),
                                       _input_samples(st, "soak-sink", "sink"))
            if t_warm is not None:
                for g, pid in pids.items():
                    rss.setdefault(g, []).append((round(now - t_start, 2), rss_mib(pid) or 0.0))
            if now >= deadline:
                break
            time.sleep(min(1.0, deadline - now))
        st = manager.stats()
        t_end = time.monotonic()
        n_end = (_input_samples(st, "soak-relay", "relay"), _input_samples(st, "soak-sink", "sink"))
        for g, pid in pids.items():
            rss.setdefault(g, []).append((round(t_end - t_start, 2), rss_mib(pid) or 0.0))
        manager.stop_all()                      # sources first
        sent = get_value(manager.node("source").outputs["signals"].index)
        sink = manager.node("sink")
        wait_until = time.monotonic() + 30
        while sink.report()["last_index"] != sent and time.monotonic() < wait_until:
            time.sleep(0.05)
        report = sink.report()
        relay_in = manager.stats()["groups"]["soak-relay"]["nodes"]["relay"]["inputs"]["input"]
    # -- after close ---------------------------------------------------------
    assert t_warm is not None and n_warm is not None     # (the deadline comes after the warm-up)
    elapsed = t_end - t_warm
    streams = [(n_end[i] - n_warm[i]) * sample_bytes / elapsed / 1e6 for i in range(2)]
    res.update({"sent_samples": sent, "received_samples": report["samples"],
                "stream_mb_per_s": [round(s, 1) for s in streams],
                "aggregate_mb_per_s": round(sum(streams), 1), "measured_s": round(elapsed, 1),
                "sink": {k: report[k] for k in ("first_index", "last_index", "n_jumps", "jumps",
                                                "bad_chunks", "bad", "gaps", "dropped", "gap_log")},
                "relay_input": {k: relay_in[k] for k in ("samples", "gaps", "dropped")},
                "rss_mib": {g: {"after_warmup": round(v[0][1], 1), "end": round(v[-1][1], 1),
                                "max": round(max(x for _, x in v), 1),
                                "growth": round(v[-1][1] - v[0][1], 1)} for g, v in rss.items()}})
    gone = {g: not psutil.pid_exists(pid) for g, pid in pids.items()}
    fds_after = _settled_fds(fds_before)
    res.update({"fds_before": fds_before, "fds_after": fds_after, "children_exited": gone,
                "fds_new": sorted(v for k, v in open_fds().items() if named_before.get(k) != v),
                "shm_leaked": sorted(shm_segments([os.getpid(), *pids.values()]))})
    checks = res["checks"]
    checks["no lost samples"] = (report["samples"] == sent and report["first_index"] == 0
                                 and report["last_index"] == sent and report["n_jumps"] == 0
                                 and report["gaps"] == 0 and report["dropped"] == 0
                                 and relay_in["gaps"] == 0 and relay_in["dropped"] == 0)
    checks["values exact"] = report["bad_chunks"] == 0
    checks[f"rss growth < {rss_bound_mib:g} MiB"] = all(v["growth"] < rss_bound_mib
                                                       for v in res["rss_mib"].values())
    checks["no leaked fds"] = fds_after <= fds_before
    checks["children exited"] = all(gone.values())
    checks["no leaked shm"] = not res["shm_leaked"]
    checks[f"aggregate >= {mb_per_s:g} MB/s"] = res["aggregate_mb_per_s"] >= 0.95 * mb_per_s
    res["ok"] = all(checks.values())
    _print(res, out or sys.stdout)
    return res


def _print(res: dict, out) -> None:
    p = lambda *a: print(*a, file=out)   # noqa: E731
    p(f"soak: 3 processes (source -> relay -> sink), sharedmem, backpressure=block, "
      f"{res['nchan']} ch int64, chunks of {res['chunk']} samples")
    p(f"  measured {res['measured_s']} s after {res['warmup_s']:g} s warm-up: "
      f"{res['aggregate_mb_per_s']} MB/s aggregate (streams: "
      f"{' + '.join(str(s) for s in res['stream_mb_per_s'])}; target {res['target_mb_per_s']:g})")
    p(f"  samples sent {res['sent_samples']}, received {res['received_samples']}, "
      f"jumps {res['sink']['n_jumps']}, gaps {res['sink']['gaps']}, dropped {res['sink']['dropped']}, "
      f"bad chunks {res['sink']['bad_chunks']}")
    for g, v in res["rss_mib"].items():
        p(f"  RSS {g:<12} {v['after_warmup']:7.1f} -> {v['end']:7.1f} MiB (growth {v['growth']:+.1f}, "
          f"max {v['max']:.1f})")
    p(f"  fds in manager {res['fds_before']} -> {res['fds_after']} {res['fds_new'] or ''}; shm leaked: "
      f"{res['shm_leaked'] or 'none'}; children exited: {all(res['children_exited'].values())}")
    for name, ok in res["checks"].items():
        p(f"  [{'ok' if ok else 'FAIL'}] {name}")
    p("soak: PASSED" if res["ok"] else "soak: FAILED")


def main(argv: list[str] | None = None) -> int:
    parser = harness.parser("soak", __doc__)
    parser.add_argument("minutes", type=float, help="how long to run after the warm-up")
    parser.add_argument("--mb", type=float, default=100.0, help="aggregate target MB/s (both streams)")
    parser.add_argument("--nchan", type=int, default=16)
    parser.add_argument("--chunk", type=int, default=4096, help="samples per chunk")
    parser.add_argument("--warmup", type=float, default=None, help="seconds before measuring")
    parser.add_argument("--rss-bound", type=float, default=32.0, help="allowed RSS growth per process (MiB)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.minutes <= 0:
        parser.error(refusal("MINUTES", "> 0", args.minutes))
    res = run_soak(args.minutes * 60, mb_per_s=args.mb, nchan=args.nchan, chunk=args.chunk,
                   warmup=args.warmup, rss_bound_mib=args.rss_bound)
    harness.write_json(args.json, res)
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
