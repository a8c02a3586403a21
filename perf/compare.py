"""Side-by-side table of the `acqflow bench` JSON files perf/compare.sh wrote to DIR:
base-AREA-ROUND.json and head-AREA-ROUND.json: each tree's best and median over the rounds,
and ``worse`` where head is more than 10 % worse than base in both (a change in the code moves
both; a noisy round on a shared machine moves one, mostly the median).

usage: python perf/compare.py DIR
"""
from __future__ import annotations

import glob
import json
import os
import statistics
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


def _chunkcost(res: dict) -> Iterator[Row]:
    for r in res.get("results", []):
        yield r["case"], "send us/chunk", r["send_us"], False
        yield r["case"], "recv us/chunk", r["recv_us"], False


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


AREAS: dict[str, Callable[[dict], Iterator[Row]]] = {"chunkcost": _chunkcost, "streams": _streams,
                                                     "rec": _rec, "nodes": _nodes}


def gather(paths: list[str], rows: Callable[[dict], Iterator[Row]]) -> dict[tuple[str, str], tuple[list[float], bool]]:
    """(case, metric) -> (its value in each run, higher is better)."""
    out: dict[tuple[str, str], tuple[list[float], bool]] = {}
    for path in paths:
        with open(path) as f:
            res: dict[str, Any] = json.load(f)
        for case, metric, value, higher in rows(res):
            out.setdefault((case, metric), ([], higher))[0].append(float(value))
    return out


def summary(values: list[float], higher: bool) -> tuple[float, float]:
    """(best, median) of one tree's runs."""
    return (max(values) if higher else min(values)), statistics.median(values)


def _worse(head: float, base: float, higher: bool) -> bool:
    return bool(base) and (head < 0.9 * base if higher else head > 1.1 * base + 1e-9)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not os.path.isdir(argv[0]):
        print(__doc__, file=sys.stderr)
        return 2
    d = argv[0]
    worse = 0
    print(f"{'area':<8} {'case':<40} {'metric':<15} {'base best':>10} {'head best':>10} {'ratio':>6} "
          f"{'base med':>10} {'head med':>10} {'ratio':>6}")
    for area, rows in AREAS.items():
        base = gather(sorted(glob.glob(os.path.join(d, f"base-{area}-*.json"))), rows)
        head = gather(sorted(glob.glob(os.path.join(d, f"head-{area}-*.json"))), rows)
        for key in list(base) + [k for k in head if k not in base]:
            higher = (base.get(key) or head[key])[1]
            b = summary(base[key][0], higher) if key in base else None
            h = summary(head[key][0], higher) if key in head else None
            cells = []
            for k in (0, 1):
                ratio = f"{h[k] / b[k]:6.2f}" if b and h and b[k] else ""
                cells.append(f"{'-' if b is None else f'{b[k]:,.1f}':>10} "
                             f"{'-' if h is None else f'{h[k]:,.1f}':>10} {ratio:>6}")
            flag = ""
            if b and h and _worse(h[0], b[0], higher) and _worse(h[1], b[1], higher):
                flag, worse = "  worse", worse + 1
            print(f"{area:<8} {key[0][:40]:<40} {key[1]:<15} {cells[0]} {cells[1]}{flag}")
    print(f"\n{worse} figures more than 10 % worse in both the best and the median of each tree's "
          f"runs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
