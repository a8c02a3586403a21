"""Side-by-side table of the `acqflow bench` JSON files perf/compare.sh wrote to DIR:
base-AREA-ROUND.json and head-AREA-ROUND.json; each figure is the best of the rounds.

usage: python perf/compare.py DIR
"""
from __future__ import annotations

import glob
import json
import os
import sys
from typing import Any, Callable, Iterator

# area -> rows(results) yielding (case, metric, value, higher_is_better)
Row = tuple[str, str, float, bool]


def _streams(res: dict) -> Iterator[Row]:
    for r in res.get("results", []):
        case = f"{r['size']} {r['protocol']} {r['transfermode']}"
        yield case, "MB/s", r["mb_per_s"], True
        if r.get("latency_p50_us") is not None:
            yield case, "p50 us", r["latency_p50_us"], False


def _rec(res: dict) -> Iterator[Row]:
    results = res.get("results", {})
    for r in results.get("recorder", []):
        case = f"source {r['rate_mbps']:g} MB/s"
        yield case, "recorded MB/s", r["MBps"], True
        yield case, "gaps+overflows", r["gaps"] + r["overflows"], False
    yield "Recorder", "sustained MB/s", results.get("sustained_MBps", 0.0), True
    long = results.get("long")
    if long:
        case = f"{long['hours']:g} h x {long['channels']} ch"
        yield case, "write MB/s", long["write_MBps"], True
        yield case, "open ms", long["open_ms"], False
        yield case, "slice median ms", long["slice_ms_median"], False


def _nodes(res: dict) -> Iterator[Row]:
    for r in res.get("results", []):
        yield f"{r['node']} {r['config']}", "RTF", r["rtf"], True


AREAS: dict[str, Callable[[dict], Iterator[Row]]] = {"streams": _streams, "rec": _rec, "nodes": _nodes}


def best(paths: list[str], rows: Callable[[dict], Iterator[Row]]) -> dict[tuple[str, str], tuple[float, bool]]:
    """(case, metric) -> (the best value over the runs, higher is better)."""
    out: dict[tuple[str, str], tuple[float, bool]] = {}
    for path in paths:
        with open(path) as f:
            res: dict[str, Any] = json.load(f)
        for case, metric, value, higher in rows(res):
            old = out.get((case, metric))
            if old is None or (value > old[0] if higher else value < old[0]):
                out[(case, metric)] = (float(value), higher)
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not os.path.isdir(argv[0]):
        print(__doc__, file=sys.stderr)
        return 2
    d = argv[0]
    worse = 0
    print(f"{'area':<8} {'case':<44} {'metric':<16} {'base':>12} {'head':>12} {'head/base':>9}")
    for area, rows in AREAS.items():
        base = best(sorted(glob.glob(os.path.join(d, f"base-{area}-*.json"))), rows)
        head = best(sorted(glob.glob(os.path.join(d, f"head-{area}-*.json"))), rows)
        for key in list(base) + [k for k in head if k not in base]:
            b, h = base.get(key), head.get(key)
            higher = (b or h)[1]                      # type: ignore[index]
            ratio = "" if not (b and h and b[0]) else f"{h[0] / b[0]:9.2f}"
            flag = ""
            if b and h and b[0] and (h[0] < 0.9 * b[0] if higher else h[0] > 1.1 * b[0] + 1e-9):
                flag, worse = "  worse", worse + 1
            fmt = lambda v: "-" if v is None else f"{v[0]:12,.1f}"   # noqa: E731
            print(f"{area:<8} {key[0][:44]:<44} {key[1]:<16} {fmt(b):>12} {fmt(h):>12} {ratio:>9}{flag}")
    print(f"\n{worse} figures worse by more than 10 % (best of each tree's runs; noise on a busy "
          f"machine is larger than that)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
