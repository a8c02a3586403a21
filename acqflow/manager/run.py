"""Run a built graph live (``acqflow run``'s engine): build, start, show the table, stop cleanly.

Each node group runs in its own process.  A table of streams (rate, latency,
gaps, drops) and nodes (state, CPU) refreshes every ``--interval`` s.  Ctrl-C or
SIGTERM stops the sources first, closes every node and process and so releases
every shared-memory segment.
"""
from __future__ import annotations

import io
import logging
import os
import sys
import threading
import time
from typing import Any, Callable, TextIO

from ..dataflow.graph.graphspec import GraphSpec
from ..errors import first_line
from .build import GraphBuildError, build_graph
from .console import LiveView, StatsTable
from .manager import Manager
from .progress import StartupProgress

__all__ = ["run_graph", "recording_summary"]

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
        return False, f"recording {path}: NOT readable ({first_line(exc)})"
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
