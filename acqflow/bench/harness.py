"""The one harness every benchmark uses: argument parser, machine info, JSON output, tables.

A benchmark module builds its parser with :func:`parser` (which adds ``--json``),
prints its rows with :class:`Table` and writes results with :func:`write_json`
(machine info and time stamped in), so that every ``acqflow bench <area>`` looks
and records alike.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from typing import Any, Callable, Sequence

import numpy as np

from ..dataflow.streams.cpulatency import current_cpu_latency

__all__ = ["parser", "machine", "write_json", "Table", "pct", "best_rates", "paced", "spawn_source",
           "record_sources"]


def parser(area: str, doc: str | None, **kwargs: Any) -> argparse.ArgumentParser:
    """An ArgumentParser named ``acqflow bench <area>`` with the module's first doc line
    and ``--json FILE``."""
    p = argparse.ArgumentParser(prog=f"acqflow bench {area}".rstrip(),
                                description=(doc or "").strip().splitlines()[0] if doc else None,
                                **kwargs)
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    return p


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import zmq
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(), "numpy": np.__version__,
            "pyzmq": zmq.__version__, "libzmq": zmq.zmq_version(),
            "load": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "cpu_latency_us": _cpu_latency()}


def _cpu_latency() -> int | None:
    """The PM QoS wake-up bound in force (us; 2000000000 means none), None if unreadable."""
    try:
        return current_cpu_latency()
    except OSError:
        return None


def write_json(path: str | None, results: Any, **extra: Any) -> None:
    """Write ``{"machine", "time", **extra, "results"}`` to ``path`` (nothing when None)."""
    if not path:
        return
    with open(path, "w") as f:
        json.dump({"machine": machine(), "time": time.time(), **extra, "results": results}, f,
                  indent=1, default=float)


class Table:
    """Fixed-width text table printed row by row as results arrive.

    ``columns`` is a list of ``(key, header, format[, width])``; a row is a dict and a
    key it lacks (or holds None) prints as ``-``.
    """

    def __init__(self, columns: Sequence[tuple], out=None):
        self.columns = [tuple(c[:3]) for c in columns]
        self.out = out
        self.widths = [max(len(c[1]), 6, c[3] if len(c) > 3 else 0) for c in columns]

    def header(self) -> str:
        return " ".join(h.rjust(w) for (_, h, _), w in zip(self.columns, self.widths))

    def format(self, row: dict) -> str:
        cells = []
        for (key, _, fmt), w in zip(self.columns, self.widths):
            v = row.get(key)
            cells.append(("-" if v is None else fmt.format(v)).rjust(w))
        return " ".join(cells)

    def print_header(self) -> None:
        print(self.header(), file=self.out or sys.stdout, flush=True)

    def print_row(self, row: dict) -> None:
        print(self.format(row), file=self.out or sys.stdout, flush=True)

    def render(self, rows: Sequence[dict]) -> str:
        return "\n".join([self.header()] + [self.format(r) for r in rows])


def pct(values: Sequence[float] | np.ndarray, q: float) -> float | None:
    """The ``q``-th percentile of ``values`` (None when empty)."""
    return float(np.percentile(values, q)) if len(values) else None


def best_rates(fn: Callable[[], float], repeats: int) -> list[float]:
    """``fn()`` returns a count of work done; the rates (count/s) of ``repeats`` runs."""
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = fn()
        out.append(n / (time.perf_counter() - t0))
    return out


def paced(seconds: float, rate: float | None):
    """Yield 0, 1, 2, ... for ``seconds``, at ``rate`` per second if given (sleeping,
    never spinning; late items go out back to back)."""
    n, t0 = 0, time.perf_counter()
    period = 1.0 / rate if rate else 0.0
    while True:
        now = time.perf_counter()
        if now - t0 >= seconds:
            return
        if rate and t0 + n * period > now:
            time.sleep(t0 + n * period - now)
        yield n
        n += 1


def spawn_source(module: str, config: dict[str, Any]) -> tuple[subprocess.Popen, dict[str, Any]]:
    """Start a source process (``python -m module --child``), give it ``config`` as a JSON
    line; returns it and the params of its output, which it prints first."""
    proc = subprocess.Popen([sys.executable, "-m", module, "--child"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None       # (pipes)
    proc.stdin.write(json.dumps(config) + "\n")
    proc.stdin.flush()
    return proc, json.loads(proc.stdout.readline())


def record_sources(rec: Any, streams: list[str], procs: list[subprocess.Popen]) -> tuple[float, float]:
    """Start Recorder ``rec``, tell every source in ``procs`` to send ('go', all at once),
    wait until each of its inputs ``streams`` has ended, stop and close the Recorder;
    (wall s, CPU s of this process)."""
    rec.start()
    t0, c0 = time.perf_counter(), time.process_time()
    for proc in procs:
        assert proc.stdin is not None                               # (a pipe: spawn_source's)
        proc.stdin.write("go\n")
        proc.stdin.flush()
    while not all(rec.stats()["inputs"][stream]["ended"] for stream in streams):
        failed = next((proc for proc in procs if proc.poll()), None)
        if failed is not None:    # the source failed: its output never ends
            rec.close()
            raise RuntimeError(f"the source process failed (exit code {failed.returncode})")
        time.sleep(0.02)   # a benchmark, not a test: polling the end is fine
    rec.stop()
    rec.close()
    return time.perf_counter() - t0, time.process_time() - c0
