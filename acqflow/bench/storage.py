"""Storage benchmark: write and read throughput of local recordings (float32, 16-64 ch).

``acqflow bench storage [--mb 64] [--channels 16 32 64] [--fsync block]
[--dir DIR] [--json FILE]``.  Write time runs from the first write to a completed
close() (queue drained, fsynced, manifest committed); reads are warm-cache.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..storage.reader import open_recording
from ..storage.writer import RecordingWriter
from . import harness

__all__ = ["main", "run"]

CHUNK = 512  # samples per write, a typical acquisition chunk


def _write(path: Path, nch: int, total_mb: float, fsync: str, block_s: float) -> dict:
    chunk = np.random.default_rng(0).standard_normal((CHUNK, nch)).astype(np.float32)
    n_chunks = max(1, int(total_mb * 1e6 / chunk.nbytes))
    t0 = time.perf_counter()
    w = RecordingWriter(path, fsync=fsync, block_s=block_s,
                        queue_bytes=int(total_mb * 1e6) + (64 << 20), queue_chunks=n_chunks + 1)
    w.add_stream("sig", {"streamtype": "analogsignal", "dtype": "float32",
                         "shape": (-1, nch), "sample_rate": 30000.0})
    for k in range(n_chunks):
        w.write("sig", chunk, (k + 1) * CHUNK, timestamp=k * CHUNK / 30000.0)
    t_queued = time.perf_counter()
    w.close()
    t1 = time.perf_counter()
    nbytes = n_chunks * chunk.nbytes
    return {"bytes": nbytes, "write_s": t1 - t0, "write_MBps": nbytes / 1e6 / (t1 - t0),
            "caller_us_per_write": (t_queued - t0) / n_chunks * 1e6,
            "overflows": w.stats().overflows, "blocks": w.stats().blocks}


def _read(path: Path, nbytes: int) -> dict:
    t_open = time.perf_counter()
    rec = open_recording(path)
    s = rec["sig"]
    t_opened = time.perf_counter()
    best = float("inf")
    for _ in range(2):  # the first pass also pays page faults of the fresh output array
        t0 = time.perf_counter()
        data = s[:]
        t1 = time.perf_counter()
        best = min(best, t1 - t0)
        assert data.nbytes == nbytes
        del data
    t2 = time.perf_counter()
    with s.reader() as r:
        got = sum(d.nbytes for _, d in iter(lambda: r.read(n=30000), None))
    t3 = time.perf_counter()
    rng = np.random.default_rng(1)
    n_random, length = 200, 1000
    starts = rng.integers(0, len(s) - length, n_random)
    fresh = open_recording(path)["sig"]
    t4 = time.perf_counter()
    for i in starts:
        fresh[int(i):int(i) + length]
    t5 = time.perf_counter()
    rec.close()
    return {"open_ms": (t_opened - t_open) * 1e3, "read_all_MBps": nbytes / 1e6 / best,
            "read_cursor_MBps": got / 1e6 / (t3 - t2),
            "random_slice_ms": (t5 - t4) / n_random * 1e3}


def run(channels: list[int], total_mb: float, fsync: str, block_s: float,
        directory: str | None = None) -> list[dict[str, Any]]:
    """Benchmark each channel count; returns one result dict per configuration."""
    results = []
    base = Path(tempfile.mkdtemp(prefix="acqflow-bench-", dir=directory))
    try:
        for nch in channels:
            path = base / f"rec{nch}"
            res = {"channels": nch, "dtype": "float32", "fsync": fsync,
                   **_write(path, nch, total_mb, fsync, block_s)}
            res.update(_read(path, res["bytes"]))
            results.append(res)
            shutil.rmtree(path)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return results


def _table(results: list[dict[str, Any]]) -> str:
    cols = [("channels", "ch", "{:d}"), ("fsync", "fsync", "{}"), ("bytes", "MB", "{:.0f}"),
            ("write_MBps", "write MB/s", "{:.0f}"), ("caller_us_per_write", "us/write", "{:.1f}"),
            ("open_ms", "open ms", "{:.1f}"), ("read_all_MBps", "read MB/s", "{:.0f}"),
            ("read_cursor_MBps", "cursor MB/s", "{:.0f}"),
            ("random_slice_ms", "1k-slice ms", "{:.3f}"), ("overflows", "drops", "{:d}")]
    rows = [[h for _, h, _ in cols]]
    for r in results:
        rows.append([f.format(r[k] / 1e6 if k == "bytes" else r[k]) for k, _, f in cols])
    widths = [max(len(row[c]) for row in rows) for c in range(len(cols))]
    return "\n".join("  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in rows)


def main(argv: list[str]) -> int:
    """``acqflow bench storage`` (or ``--storage``)."""
    ap = harness.parser("storage", __doc__)
    ap.add_argument("--mb", type=float, default=64.0, help="data written per configuration")
    ap.add_argument("--channels", type=int, nargs="+", default=[16, 32, 64])
    ap.add_argument("--fsync", choices=["block", "interval", "none"], default="block")
    ap.add_argument("--block-s", type=float, default=1.0)
    ap.add_argument("--dir", default=None, help="where to write (default: system temp)")
    args = ap.parse_args(argv)
    results = run(args.channels, args.mb, args.fsync, args.block_s, args.dir)
    print(_table(results))
    harness.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    import sys
    raise SystemExit(main(sys.argv[1:]))
