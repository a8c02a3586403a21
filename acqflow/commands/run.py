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

from .. import hooks
from ..dataflow.graph.graphspec import GraphError, GraphSpec, load_graph
from ..errors import first_line
from ..dataflow.streams.cpulatency import run_holding
from ..manager.check import check_graph
from ..manager.progress import StartupProgress
from ..manager.run import run_graph

__all__ = ["main"]


def _load(args: argparse.Namespace) -> GraphSpec:
    """Read, validate and check the graph file; GraphError lists every problem."""
    try:
        spec = load_graph(args.graph, run_imports=not args.check)
    except FileNotFoundError:
        raise GraphError(["no such graph file"], args.graph) from None
    except IsADirectoryError:
        raise GraphError(["is a directory, not a graph file"], args.graph) from None
    except OSError as exc:
        raise GraphError([f"cannot read it: {exc.strerror or exc}"], args.graph) from None
    problems = check_graph(spec)
    if problems:
        raise GraphError(problems, args.graph)
    return spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="acqflow run", description=__doc__.splitlines()[0])
    parser.add_argument("graph", help="YAML graph file")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--interval", type=float, default=1.0, help="table refresh period (s)")
    parser.add_argument("--restart", action="store_true", help="restart node groups that die")
    parser.add_argument("--check", action="store_true",
                        help="only validate the graph file and node params (does not run "
                             "its imports: nor start anything)")
    parser.add_argument("--keys", metavar="DIR",
                        help="Curve keys (acqflow keys DIR) for hosts that are not loopback "
                             "(default: $ACQFLOW_KEYS)")
    parser.add_argument("--monitor", action="store_true",
                        help="also show a window drawing the graph with live rates and states "
                             "(needs the qt extra and a display)")
    parser.add_argument("--web", metavar="[HOST:]PORT", help="serve the web monitor (docs/monitor.md)")
    parser.add_argument("--web-token", metavar="TOKEN", help="token for the web monitor (default: generated)")
    parser.add_argument("--cpu-latency", type=int, metavar="US",
                        help="while the graph runs, keep every core able to wake within US "
                             "microseconds (Linux PM QoS; 0 for closed loops; needs root)")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks (remote ones included) of errors")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _main(args)
    except GraphError as exc:
        print(f"acqflow run: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:      # noqa: BLE001 - one line, the traceback with --debug
        if args.debug:
            raise
        print(f"acqflow run: {type(exc).__name__}: {first_line(exc)} "
              f"(--debug shows the traceback)", file=sys.stderr)
        return 1


def _main(args: argparse.Namespace) -> int:
    progress = None if args.check else StartupProgress()
    if progress is not None:
        progress(f"reading and checking {args.graph}")
    try:
        spec = _load(args)
    finally:
        if progress is not None:
            progress.close()
    if args.check:
        note = ""
        if spec.unchecked:
            note = (f"; not checked: {', '.join(spec.unchecked)} (their types come from "
                    f"imports:, which --check does not run)")
        print(f"{args.graph}: valid ({len(spec.nodes)} nodes, {len(spec.connections)} connections, "
              f"{len({n.group for n in spec.nodes.values()})} processes{note})")
        return 0
    keys_dir = os.path.expanduser(args.keys) if args.keys else None
    if keys_dir is not None and not os.path.isdir(keys_dir):
        print(f"acqflow run: --keys {args.keys}: no such directory (make one with acqflow keys DIR)",
              file=sys.stderr)
        return 2
    return run_holding(args.cpu_latency, "acqflow run", lambda: _run(args, spec, keys_dir, progress))


def _run(args: argparse.Namespace, spec: GraphSpec, keys_dir: str | None,
         progress: StartupProgress | None = None) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if args.monitor:
        try:
            run_graph_with_monitor = hooks.get(hooks.GRAPH_WINDOW)    # acqflow.viewers, from above
        except ImportError as exc:
            print(f"acqflow run: --monitor needs the qt extra ({exc})", file=sys.stderr)
            return 2
        return run_graph_with_monitor(run_graph, spec, duration=args.duration,
                                      interval=args.interval, restart=args.restart, stop=stop,
                                      keys_dir=keys_dir, web=args.web, web_token=args.web_token,
                                      debug=args.debug, progress=progress)
    return run_graph(spec, duration=args.duration, interval=args.interval, restart=args.restart,
                     stop=stop, keys_dir=keys_dir, web=args.web, web_token=args.web_token,
                     debug=args.debug, progress=progress)

