"""CPU per chunk of OutputStream.send() and InputStream.recv(), in one thread.

The throughput rows of ``acqflow bench`` move by 20 % from run to run on a shared 2-core
machine (two processes or threads, their ZeroMQ I/O threads and the hypervisor share the
cores); the Python each end spends per chunk is what a change to the streams code moves,
and it can be measured alone: send a batch of chunks into the stream's queue, then receive
them, in one thread, and time each phase.  The figure is the 10th percentile of the
batches' per-chunk times (the batches the machine did not disturb).  Runs against whichever
acqflow is first on ``sys.path`` (perf/compare.sh sets it), at this layout or e24e08a's.

usage: python perf/chunkcost.py [--json FILE] [--batches 150]
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

try:
    from acqflow.dataflow.streams.inputstream import InputStream
    from acqflow.dataflow.streams.outputstream import OutputStream
except ImportError:                       # e24e08a's layout
    from acqflow.dataflow.inputstream import InputStream  # type: ignore[no-redef]
    from acqflow.dataflow.outputstream import OutputStream  # type: ignore[no-redef]

CASES = [("2KiB", 32, "plaindata"), ("2KiB", 32, "sharedmem"),
         ("64KiB", 1024, "plaindata"), ("64KiB", 1024, "sharedmem")]
BATCH = {32: 400, 1024: 100}             # chunks sent, then received, per batch


def measure(rows: int, mode: str, batches: int) -> tuple[float, float]:
    """(send, recv) us per chunk: the 10th percentile over ``batches`` batches."""
    k = BATCH[rows]
    extra = {"double": False} if mode == "sharedmem" else {}
    out = OutputStream(name="chunkcost")
    out.configure(protocol="ipc", transfermode=mode, streamtype="analogsignal", dtype="float32",
                  shape=(-1, 16), sample_rate=1000.0, backpressure="block",
                  buffer_size=2 * k * rows, hwm=1000, **extra)
    inp = InputStream()
    inp.connect(out.params)
    chunk = np.ones((rows, 16), "float32")
    dst = np.empty_like(chunk)
    view = mode == "sharedmem"
    send, recv = [], []
    try:
        for _ in range(batches):
            t0 = time.perf_counter()
            for _ in range(k):
                out.send(chunk)
            t1 = time.perf_counter()
            for _ in range(k):          # what a reader does: take the chunk, copy it out
                index, data = inp.recv(timeout=5000, return_data=not view)
                if view:
                    data = inp.get_array_slice(index, rows)
                assert data is not None
                np.copyto(dst, data)
            t2 = time.perf_counter()
            send.append((t1 - t0) / k * 1e6)
            recv.append((t2 - t1) / k * 1e6)
    finally:
        inp.close()
        out.close()
    return float(np.percentile(send, 10)), float(np.percentile(recv, 10))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--batches", type=int, default=150)
    args = parser.parse_args(argv)
    results = []
    print(f"{'case':<22} {'send us':>8} {'recv us':>8}")
    for label, rows, mode in CASES:
        send, recv = measure(rows, mode, args.batches)
        results.append({"case": f"{label} ipc {mode}", "send_us": send, "recv_us": recv})
        print(f"{results[-1]['case']:<22} {send:8.2f} {recv:8.2f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"time": time.time(), "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
