"""`acqflow bench rec`: Recorder throughput to local disk, and slice reads of a long recording.

1. *Sustained recording*: a source process streams 64-channel float32 chunks,
   paced at each of ``--rates`` MB/s for ``--seconds``, over tcp with
   ``backpressure='block'`` (nothing is dropped in transport) into a
   ``Recorder`` with ``fsync='block'`` in this process.  The recording is then
   checked: every sample present, no gap, no writer overflow (a Recorder never
   slows acquisition down: a disk that cannot keep up shows as overflows).  The
   sustained rate is the highest with none.
2. *Random slices of a long recording*: ``--hours`` of 64 ch x 30 kHz (int16 by
   default, as acquisition boards deliver it) written with the storage writer,
   then ``--slices`` random 1 s slices read by absolute index, each timed.  As
   root the page cache is dropped first, so the reads come from disk.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..dataflow.paramcheck import refusal
from . import harness

__all__ = ["main", "bench_recorder", "bench_long_reads"]

RATE = 30000.0


def _child() -> None:
    """Source process: configure from a JSON line, print params, wait for 'go', send, close."""
    from ..dataflow import OutputStream
    cfg = json.loads(sys.stdin.readline())
    chunk = np.random.default_rng(0).standard_normal((cfg["chunk"], cfg["channels"])).astype("float32")
    out = OutputStream(name="source")
    out.configure(protocol="tcp", dtype="float32", shape=(-1, cfg["channels"]), sample_rate=RATE,
                  backpressure="block")
    print(json.dumps(out.params), flush=True)
    sys.stdin.readline()
    period = chunk.nbytes / (cfg["rate_mbps"] * 1e6)
    t0 = time.perf_counter()
    for n in range(cfg["n_chunks"]):
        wait = t0 + n * period - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        out.send(chunk)
    out.close()
    print("done", flush=True)


def bench_recorder(rate_mbps: float = 200.0, seconds: float = 10.0, channels: int = 64,
                   chunk: int = 1024, dirname: str | None = None) -> dict[str, Any]:
    """Stream ``rate_mbps`` MB/s for ``seconds`` from another process into a Recorder
    (fsync per block); what arrived on disk, gaps and overflows."""
    from ..storage import open_recording
    from ..nodes.recorder import Recorder
    n_chunks = max(1, int(rate_mbps * 1e6 * seconds / (chunk * channels * 4)))
    tmp = Path(tempfile.mkdtemp(prefix="acqflow-recbench-", dir=dirname))  # only ours is removed
    path = tmp / "rec"
    proc, params = harness.spawn_source("acqflow.bench.rec", {
        "chunk": chunk, "channels": channels, "n_chunks": n_chunks, "rate_mbps": rate_mbps})
    try:
        rec = Recorder(name="rec")
        rec.configure(streams=["sig"], dirname=path, mode="overwrite", fsync="block")
        rec.inputs["sig"].connect(params)
        rec.initialize()
        seconds, _ = harness.record_sources(rec, ["sig"], [proc])
        stats = rec.stats()
        proc.wait(30)
        recording = open_recording(path)
        stored = recording["sig"]
        result = {"rate_mbps": rate_mbps, "channels": channels, "chunk": chunk,
                  "mb": n_chunks * chunk * channels * 4 / 1e6,
                  "seconds": seconds, "MBps": n_chunks * chunk * channels * 4 / 1e6 / seconds,
                  "samples": stored.n_samples, "expected": n_chunks * chunk,
                  "gaps": len(stored.gaps), "overflows": stats["overflows"],
                  "committed": recording.committed}
        recording.close()
        return result
    finally:
        if proc.poll() is None:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def _drop_page_cache() -> bool:
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def bench_long_reads(hours: float = 1.0, channels: int = 64, dtype: str = "int16", slices: int = 20,
                     dirname: str | None = None, keep: bool = False,
                     drop_cache: bool = True) -> dict[str, Any]:
    """Write ``hours`` of channels x 30 kHz, then time random 1 s slices (values checked)."""
    from ..storage import open_recording
    from ..storage.writer import RecordingWriter
    tmp = Path(tempfile.mkdtemp(prefix="acqflow-recbench-", dir=dirname))  # only ours is removed
    path = tmp / "long"
    second = int(RATE)
    base = (np.random.default_rng(1).standard_normal((second, channels)) * 1000).astype(dtype)
    n_seconds = int(hours * 3600)
    try:
        t0 = time.perf_counter()
        w = RecordingWriter(path, mode="overwrite", fsync="none", queue_bytes=1 << 30)
        w.add_stream("sig", {"streamtype": "analogsignal", "dtype": dtype, "shape": (-1, channels),
                             "sample_rate": RATE})
        for s in range(n_seconds):
            block = base.copy()
            block[:, 0] = s % 30000          # channel 0 carries the second: slices are checked
            w.write("sig", block, (s + 1) * second, timestamp=float(s + 1))
            if s % 60 == 59:
                w.flush()                    # keep the queue bounded, never drop
        w.close()
        write_s = time.perf_counter() - t0
        cold = drop_cache and _drop_page_cache()
        rng = np.random.default_rng(2)
        times = []
        t_open = time.perf_counter()
        recording = open_recording(path)
        stored = recording["sig"]
        open_ms = (time.perf_counter() - t_open) * 1e3
        for start_s in rng.integers(0, n_seconds - 1, slices):
            start = int(start_s) * second + int(rng.integers(0, second))
            t = time.perf_counter()
            data = stored[start:start + second]
            times.append((time.perf_counter() - t) * 1e3)
            expected = np.arange(start, start + second) // second % 30000
            if data.shape != (second, channels) or not np.array_equal(data[:, 0], expected):
                raise AssertionError(f"slice at {start} has wrong data")
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        recording.close()
        return {"hours": hours, "channels": channels, "dtype": dtype, "bytes": size,
                "write_s": write_s, "write_MBps": size / 1e6 / write_s, "cold_cache": cold,
                "open_ms": open_ms, "slice_ms_median": statistics.median(times),
                "slice_ms_max": max(times), "slices": slices}
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--child"]:
        _child()
        return 0
    parser = harness.parser("rec", __doc__)
    parser.add_argument("--rates", default="100,200,300,400",
                        help="comma list of source rates in MB/s to try")
    parser.add_argument("--seconds", type=float, default=10.0, help="streaming time per rate")
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--hours", type=float, default=1.0,
                        help="length of the long recording (0 skips; 1 h of int16 is 13.8 GB)")
    parser.add_argument("--dtype", default="int16", help="dtype of the long recording")
    parser.add_argument("--slices", type=int, default=20)
    parser.add_argument("--warm", action="store_true",
                        help="do not drop the page cache before the slice reads")
    parser.add_argument("--dir", help="where to write (default: a temporary directory)")
    args = parser.parse_args(argv)
    try:
        rates = [float(r) for r in args.rates.split(",")]
    except ValueError:
        parser.error(refusal("--rates", "a comma list of numbers", args.rates))
    for key, value, ok in (("--channels", args.channels, args.channels >= 1), ("--seconds", args.seconds,
                           args.seconds > 0), ("--rates", args.rates, min(rates) > 0),
                           ("--hours", args.hours, args.hours >= 0)):
        if not ok:
            parser.error(refusal(key, ">= 0" if key == "--hours" else "> 0", value))
    results: dict[str, Any] = {"recorder": []}
    print(f"Recorder, {args.channels} ch float32 over tcp (block), fsync per block, {args.seconds:g} s each:")
    print(f"{'source MB/s':>12} {'recorded MB/s':>14} {'samples':>20} {'gaps':>5} {'overflows':>9}")
    for rate in rates:
        r = bench_recorder(rate, args.seconds, args.channels, dirname=args.dir)
        results["recorder"].append(r)
        print(f"{rate:12.0f} {r['MBps']:14.0f} {r['samples']:>9}/{r['expected']:<10} {r['gaps']:5d} "
              f"{r['overflows']:9d}")
    clean = [r["rate_mbps"] for r in results["recorder"] if not r["gaps"] and not r["overflows"]]
    results["sustained_MBps"] = max(clean) if clean else 0.0
    print(f"sustained without loss: {results['sustained_MBps']:.0f} MB/s")
    if args.hours > 0:
        results["long"] = r = bench_long_reads(args.hours, args.channels, args.dtype, args.slices,
                                               dirname=args.dir, drop_cache=not args.warm)
        print(f"{r['hours']:g} h x {r['channels']} ch x 30 kHz {r['dtype']} ({r['bytes'] / 1e9:.1f} GB, "
              f"written at {r['write_MBps']:.0f} MB/s): open {r['open_ms']:.1f} ms; random 1 s slice "
              f"median {r['slice_ms_median']:.1f} ms, max {r['slice_ms_max']:.1f} ms over "
              f"{r['slices']} slices ({'page cache dropped' if r['cold_cache'] else 'warm cache'})")
    harness.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
