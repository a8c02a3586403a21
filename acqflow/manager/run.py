"""`acqflow run graph.yaml`: build a graph file, run it, show it live, stop cleanly.

Each node group runs in its own process.  A table of streams (rate, latency,
gaps, drops) and nodes (state, CPU) refreshes every ``--interval`` s.  Ctrl-C or
SIGTERM stops the sources first, closes every node and process and so releases
every shared-memory segment.
"""
from __future__ import annotations

import argparse
import io
import logging
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, TextIO

from .. import hooks
from ..dataflow.cpulatency import run_holding
from ..dataflow.graph import GraphError, GraphSpec, load_graph
from .build import GraphBuildError, build_graph
from .check import check_graph
from .console import LiveView, StatsTable
from .manager import Manager
from .progress import StartupProgress

__all__ = ["main", "run_graph"]

log = logging.getLogger(__name__)


def recording_paths(spec: GraphSpec) -> dict[str, str]:
    """Node name -> absolute recording directory, for every node given a ``dirname``
    (recorders; group processes share this process's working directory)."""
    return {name: os.path.abspath(os.path.expanduser(str(ns.params["dirname"])))
            for name, ns in spec.nodes.items()
            if isinstance(ns.params.get("dirname"), (str, os.PathLike)) and ns.params["dirname"]}


def _recorded_at(manager: Manager, name: str, default: str) -> str:
    """Where node ``name`` records: its configured ``dirname`` (a Recorder fills in its
    placeholders, e.g. ``rec-{time}``, at configure()), else ``default``."""
    try:
        return os.path.abspath(str(manager.node(name).config._get_value()["dirname"]))
    except Exception:      # noqa: BLE001 - a group that died: the graph's name
        return default


def recording_summary(path: str) -> tuple[bool, str]:
    """(committed, one line) for the recording at ``path``, as a reader opens it."""
    if not os.path.lexists(path):     # a Recorder closed before it started makes none
        return True, f"recording {path}: none made (its recorder never started)"
    try:
        from ..storage import open_recording
        rec = open_recording(path)
    except Exception as exc:      # noqa: BLE001 - reported, whatever the reason
        return False, f"recording {path}: NOT readable ({_first_line(exc)})"
    streams = list(rec.streams.values())
    samples = sum(len(s) for s in streams)
    what = f"{len(streams)} streams, {samples} samples"
    if rec.committed:
        return True, f"recording {path}: committed ({what})"
    return False, (f"recording {path}: NOT committed ({what} readable in sealed blocks; "
                   f"the writer did not close)")


class _NullStream(io.StringIO):
    """Where the progress of a run_graph() not given one goes (nothing is kept)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def run_graph(spec: GraphSpec, duration: float | None = None, interval: float = 1.0,
              restart: bool = False, out: TextIO = sys.stdout, stop: threading.Event | None = None,
              on_started: Callable[[Manager], Any] | None = None, keys_dir: str | None = None,
              web: str | None = None,
              web_token: str | None = None, debug: bool = False,
              progress: StartupProgress | None = None) -> int:
    """Run ``spec`` until ``stop`` is set or ``duration`` s pass; print the live table.
    ``keys_dir``: Curve keys for non-loopback hosts (default ``$ACQFLOW_KEYS``);
    ``web``: serve the web monitor on this [HOST:]PORT (docs/monitor.md);
    ``progress``: told each start-up step (StartupProgress; ``acqflow run`` prints them).

    Returns 0 when every node and process closed and every recording was committed,
    1 otherwise; the last lines say which (never "closed" when something was not)."""
    stop = stop or threading.Event()
    progress = progress or StartupProgress(tty=False, stream=_NullStream())
    table = StatsTable()
    built = False
    with Manager(restart=restart) as manager:
        try:
            build_graph(spec, manager, keys_dir=keys_dir, progress=progress)
        except GraphBuildError as exc:
            progress.close()
            if debug:
                log.error("building the graph failed", exc_info=exc)
            print(f"acqflow run: {exc}" + ("" if debug else " (--debug shows the traceback)"),
                  file=sys.stderr)
            return 1
        built = True
        paths = {n: _recorded_at(manager, n, p) for n, p in recording_paths(spec).items()}
        monitor = None
        if stop.is_set():          # Ctrl-C while building: close what was built, start nothing
            out.write("stopping before start (signal received while building)...\n")
        else:
            progress(f"starting {len(spec.nodes)} node{'s' * (len(spec.nodes) != 1)}")
            manager.start_all()
            progress.done(f"started {len(spec.nodes)} nodes in {len(manager.groups)} processes "
                          f"({progress.elapsed():.1f} s); first table in {interval:g} s")
            try:
                monitor = manager.serve_web(web, token=web_token, announce=False) if web else None
            except (ValueError, OSError, ImportError) as exc:
                print(f"acqflow run: {exc}", file=sys.stderr)
                return 2
            if monitor:              # once, above the live table (not at every refresh)
                out.write(monitor.banner() + "\n")
                out.flush()
        if on_started is not None:
            on_started(manager)
        started = time.monotonic()
        table.update(manager.stats())
        with LiveView(out, end="\n\n") as view:
            while not stop.wait(interval):
                lines = table.update(manager.stats())
                elapsed = time.monotonic() - started
                header = (f"acqflow run: {len(manager.list_nodes())} nodes in {len(manager.groups)} "
                          f"processes, {elapsed:.0f} s")
                view.show("\n".join([header] + lines))
                if duration is not None and elapsed >= duration:
                    break
        if monitor:
            monitor.close()
        out.write("stopping...\n")
        out.flush()
    problems = list(manager.close_problems)
    if built:
        for path in paths.values():
            committed, line = recording_summary(path)
            out.write(line + "\n")
            if not committed:
                problems.append(f"recording {path} not committed")
    if problems:
        out.write("stopped with problems:\n" + "".join(f"  - {p}\n" for p in problems))
        return 1
    out.write("stopped: every node and process closed\n")
    return 0


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
        print(f"acqflow run: {type(exc).__name__}: {_first_line(exc)[:300]} "
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


if __name__ == "__main__":
    sys.exit(main())
