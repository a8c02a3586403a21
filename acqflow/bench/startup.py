"""Start-up: import times and `acqflow run` until its first table (``acqflow bench startup``).

Import time of ``acqflow``, ``acqflow.nodes`` and ``acqflow.devices``, each in a fresh
interpreter (``python -X importtime``, the module's cumulative time), best and median of
``--repeats``; then ``acqflow run`` on the README's graph (its first ``yaml`` block,
the recording sent to a temporary directory) timed from launch to its ``started`` line
(stderr) and to the first table line (stdout).
"""
from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from ..dataflow.paramcheck import refusal
from . import harness

__all__ = ["main", "import_time", "readme_graph", "time_to_first_table", "MODULES"]

MODULES = ("acqflow", "acqflow.nodes", "acqflow.devices")
TARGET_IMPORT_S = 0.5


def import_time(module: str) -> float:
    """Seconds ``import module`` takes in a fresh interpreter (its cumulative -X importtime)."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"import {module} failed: {result.stderr.strip().splitlines()[-1:]}")
    for line in reversed(result.stderr.splitlines()):
        m = re.match(r"import time:\s*\d+\s*\|\s*(\d+)\s*\|\s*(\S+)\s*$", line)
        if m and m.group(2) == module:
            return int(m.group(1)) / 1e6
    raise RuntimeError(f"no -X importtime line for {module}")


def readme_graph(readme: Path, directory: Path) -> Path:
    """The README's graph (first ``yaml`` block with ``nodes:``) written to ``directory``,
    its recording directories moved into ``directory`` (mode overwrite)."""
    text = readme.read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "nodes:" in b]
    if not blocks:
        raise RuntimeError(f"{readme}: no yaml block with nodes:")
    graph = yaml.safe_load(blocks[0])
    for name, node in (graph.get("nodes") or {}).items():
        params = node.get("params") or {}
        if "dirname" in params:
            params.update(dirname=str(directory / f"rec-{name}"), mode="overwrite")
    path = directory / "graph.yaml"
    path.write_text(yaml.safe_dump(graph), encoding="utf-8")
    return path


def time_to_first_table(graph: Path, interval: float, timeout: float = 120.0) -> dict[str, Any]:
    """Launch ``acqflow run GRAPH`` and time its ``started`` line and first table line
    (seconds from launch); then stop it with SIGINT."""
    cmd = [sys.executable, "-m", "acqflow.cli", "run", str(graph), "--interval", str(interval),
           "--duration", str(max(5.0, 4 * interval))]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=graph.parent)
    marks: dict[str, float] = {}
    first_line = threading.Event()
    err_lines: list[str] = []

    def read(stream, on_line):
        for line in stream:
            on_line(line)

    def on_err(line: str) -> None:
        err_lines.append(line)
        marks.setdefault("first_progress_s", time.perf_counter() - t0)
        if ": started " in line:
            marks.setdefault("started_s", time.perf_counter() - t0)

    def on_out(line: str) -> None:
        if "first_table_s" not in marks and line.strip():
            marks["first_table_s"] = time.perf_counter() - t0
            first_line.set()

    threads = [threading.Thread(target=read, args=(proc.stderr, on_err), daemon=True),
               threading.Thread(target=read, args=(proc.stdout, on_out), daemon=True)]
    for t in threads:
        t.start()
    first_line.wait(timeout)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for t in threads:
        t.join(5)
    if "first_table_s" not in marks:
        raise RuntimeError(f"acqflow run showed no table (rc {proc.returncode}): "
                           f"{''.join(err_lines[-5:]).strip()}")
    return {**marks, "rc": proc.returncode}


def _stats(values: list[float]) -> dict[str, float]:
    return {"best": min(values), "median": statistics.median(values)}


def run_benchmarks(repeats: int, readme: Path | None, interval: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    table = harness.Table([("what", "what", "{}", 34), ("best", "best s", "{:.2f}"),
                           ("median", "median s", "{:.2f}"), ("target", "target s", "{:.1f}")])
    table.print_header()
    for module in MODULES:
        row = {"what": f"import {module}", **_stats([import_time(module) for _ in range(repeats)]),
               "target": TARGET_IMPORT_S}
        table.print_row(row)
        rows.append(row)
    if readme is None:
        return rows
    with tempfile.TemporaryDirectory(prefix="acqflow-bench-startup-") as tmp:
        graph = readme_graph(readme, Path(tmp))
        runs = [time_to_first_table(graph, interval) for _ in range(repeats)]
    for key, what in (("first_progress_s", "run: first progress line"),
                      ("started_s", "run: nodes started"),
                      ("first_table_s", f"run: first table (--interval {interval:g})")):
        values = [r[key] for r in runs if key in r]
        if values:
            row = {"what": what, **_stats(values), "target": 3.0 if key == "first_table_s" else None}
            table.print_row(row)
            rows.append(row)
    return rows


def _default_readme() -> Path | None:
    path = Path(__file__).resolve().parents[2] / "README.md"
    return path if path.is_file() else None


def main(argv: list[str]) -> int:
    """`acqflow bench startup [--repeats N] [--readme FILE | --no-run] [--interval S] [--json FILE]`."""
    p = harness.parser("startup", __doc__)
    p.add_argument("--repeats", type=int, default=5, help="fresh interpreters / runs per figure")
    p.add_argument("--readme", type=Path, default=None,
                   help="README whose graph is run (default: the source tree's README.md)")
    p.add_argument("--no-run", action="store_true", help="import times only")
    p.add_argument("--interval", type=float, default=1.0,
                   help="acqflow run's --interval (the first table comes after it)")
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error(refusal("--repeats", "an int >= 1", args.repeats))
    readme = None if args.no_run else (args.readme or _default_readme())
    if not args.no_run and readme is None:
        p.error("no README.md next to the package: give --readme FILE or --no-run")
    env_path = os.environ.get("PYTHONPATH")
    rows = run_benchmarks(args.repeats, readme, args.interval)
    harness.write_json(args.json, rows, pythonpath=env_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
