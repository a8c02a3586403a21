"""`acqflow run graph.yaml`: build a graph file, run it, show it live, stop cleanly.

Each node group runs in its own process.  A table of streams (rate, latency,
gaps, drops) and nodes (state, CPU) refreshes every ``--interval`` s.  Ctrl-C or
SIGTERM stops the sources first, closes every node and process and so releases
every shared-memory segment.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time

from ..dataflow.graph import GraphError, GraphSpec, load_graph
from .build import GraphBuildError, build_graph
from .console import StatsTable
from .manager import Manager

__all__ = ["main", "run_graph"]

log = logging.getLogger("acqflow.run")


def run_graph(spec: GraphSpec, duration: float | None = None, interval: float = 1.0,
              restart: bool = False, out=sys.stdout, stop: threading.Event | None = None,
              on_started=None, keys_dir: str | None = None, web: str | None = None,
              web_token: str | None = None) -> int:
    """Run ``spec`` until ``stop`` is set or ``duration`` s pass; print the live table.
    ``keys_dir``: Curve keys for non-loopback hosts (default ``$ACQFLOW_KEYS``);
    ``web``: serve the web monitor on this [HOST:]PORT (docs/monitor.md)."""
    stop = stop or threading.Event()
    table = StatsTable()
    tty = out.isatty()
    with Manager(restart=restart) as manager:
        try:
            build_graph(spec, manager, keys_dir=keys_dir)
        except GraphBuildError as exc:
            print(f"acqflow run: {exc}", file=sys.stderr)
            return 1
        manager.start_all()
        try:
            monitor = manager.serve_web(web, token=web_token) if web else None
        except (ValueError, OSError, ImportError) as exc:
            print(f"acqflow run: {exc}", file=sys.stderr)
            return 2
        if on_started is not None:
            on_started(manager)
        started = time.monotonic()
        table.update(manager.stats())
        while not stop.wait(interval):
            lines = table.update(manager.stats())
            elapsed = time.monotonic() - started
            header = f"acqflow run: {len(manager.list_nodes())} nodes in {len(manager.groups)} processes, {elapsed:.0f} s"
            header += f"\n{monitor.banner()}" if monitor else ""
            if tty:
                out.write("\x1b[H\x1b[J")
            out.write("\n".join([header] + lines) + "\n\n")
            out.flush()
            if duration is not None and elapsed >= duration:
                break
        if monitor:
            monitor.close()
        out.write("stopping...\n")
        out.flush()
    out.write("stopped: every node and process closed\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="acqflow run", description=__doc__.splitlines()[0])
    parser.add_argument("graph", help="YAML graph file")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--interval", type=float, default=1.0, help="table refresh period (s)")
    parser.add_argument("--restart", action="store_true", help="restart node groups that die")
    parser.add_argument("--check", action="store_true", help="only validate the graph file")
    parser.add_argument("--keys", metavar="DIR",
                        help="Curve keys (acqflow keys DIR) for hosts that are not loopback "
                             "(default: $ACQFLOW_KEYS)")
    parser.add_argument("--monitor", action="store_true",
                        help="also show a window drawing the graph with live rates and states "
                             "(needs the qt extra and a display)")
    parser.add_argument("--web", metavar="[HOST:]PORT", help="serve the web monitor (docs/monitor.md)")
    parser.add_argument("--web-token", metavar="TOKEN", help="token for the web monitor (default: generated)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        spec = load_graph(args.graph)
    except FileNotFoundError:
        print(f"acqflow run: no such graph file: {args.graph}", file=sys.stderr)
        return 2
    except GraphError as exc:
        print(f"acqflow run: {exc}", file=sys.stderr)
        return 2
    if args.check:
        print(f"{args.graph}: valid ({len(spec.nodes)} nodes, {len(spec.connections)} connections, "
              f"{len({n.group for n in spec.nodes.values()})} processes)")
        return 0
    keys_dir = os.path.expanduser(args.keys) if args.keys else None
    if keys_dir is not None and not os.path.isdir(keys_dir):
        print(f"acqflow run: --keys {args.keys}: no such directory (make one with acqflow keys DIR)",
              file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if args.monitor:
        try:
            from ..viewers.monitor import run_graph_with_monitor
        except ImportError as exc:
            print(f"acqflow run: --monitor needs the qt extra ({exc})", file=sys.stderr)
            return 2
        return run_graph_with_monitor(run_graph, spec, duration=args.duration,
                                      interval=args.interval, restart=args.restart, stop=stop,
                                      keys_dir=keys_dir, web=args.web, web_token=args.web_token)
    return run_graph(spec, duration=args.duration, interval=args.interval, restart=args.restart,
                     stop=stop, keys_dir=keys_dir, web=args.web, web_token=args.web_token)


if __name__ == "__main__":
    sys.exit(main())
