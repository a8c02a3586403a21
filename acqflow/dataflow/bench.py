"""Stream benchmark: throughput and latency between two OS processes.

For each protocol x transfermode and chunk size (float32, 16 channels: 2 KiB,
64 KiB, 4 MiB; and one 1920x1080x3 video frame) a child process sends and this
process receives.  Throughput uses ``backpressure='block'`` (nothing is lost, so
the figure is what both ends sustain); latency (send stamp to recv) is taken
with paced sends.  memcpy of the same size is the reference line.
inproc cannot cross processes, so it is measured between two threads.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time

import numpy as np

from . import clock
from .errors import StreamClosed
from .inputstream import InputStream
from .outputstream import OutputStream

__all__ = ["main", "run"]

SIZES = {  # label: (shape of one chunk, streamtype)
    "2KiB": ((32, 16), "analogsignal"),
    "64KiB": ((1024, 16), "analogsignal"),
    "4MiB": ((65536, 16), "analogsignal"),
    "video": ((1, 1080, 1920, 3), "video"),
}


def _chunk(label: str) -> np.ndarray:
    shape, kind = SIZES[label]
    dtype = "uint8" if kind == "video" else "float32"
    return np.random.default_rng(0).integers(0, 200, size=shape).astype(dtype)


def _params(label: str, protocol: str, mode: str, chunk: np.ndarray, double: bool = False) -> dict:
    """Stream params of one case.  A sharedmem ring is single unless ``double``: a double
    ring (pyacq's default, any window one contiguous view) writes every chunk twice."""
    _, kind = SIZES[label]
    extra = {"double": double} if mode == "sharedmem" else {}
    return dict(protocol=protocol, transfermode=mode, streamtype=kind, dtype=str(chunk.dtype),
                shape=(-1,) + chunk.shape[1:], backpressure="block",
                buffer_size=4 * chunk.shape[0] if kind == "video" else max(4 * chunk.shape[0], 1024),
                hwm=max(4, min(1000, (64 << 20) // chunk.nbytes)), **extra)


def _send(out: OutputStream, chunk: np.ndarray, seconds: float, rate: float | None) -> int:
    """Send ``chunk`` repeatedly for ``seconds``, paced at ``rate`` chunks/s if given.

    Pacing sleeps (never spins), so the receiver keeps its CPU and, between
    threads, the GIL; when a sleep overshoots, the late chunks go out back to back.
    """
    n, t0 = 0, time.perf_counter()
    period = 1.0 / rate if rate else 0.0
    while True:
        now = time.perf_counter()
        if now - t0 >= seconds:
            return n
        if rate and t0 + n * period > now:
            time.sleep(t0 + n * period - now)
        out.send(chunk)
        n += 1


def _child() -> None:
    """Sender side, driven by JSON lines on stdin."""
    for line in sys.stdin:
        cfg = json.loads(line)
        chunk = _chunk(cfg["label"])
        out = OutputStream(name="bench")
        out.configure(**_params(cfg["label"], cfg["protocol"], cfg["mode"], chunk, cfg.get("double", False)))
        print(json.dumps(out.params), flush=True)
        sys.stdin.readline()                      # "go"
        sent = _send(out, chunk, cfg["seconds"], cfg.get("rate"))
        out.close()
        print(json.dumps({"sent": sent}), flush=True)


def _receive(inp: InputStream, latencies: list | None) -> tuple[int, float, float]:
    """Receive until the output closes; returns (chunks, first time, last time)."""
    n, first, last = 0, None, None
    while True:
        try:
            inp.recv(timeout=20000)
        except StreamClosed:
            return n, first or 0.0, last or 0.0
        last = time.perf_counter()
        first = first or last
        n += 1
        if latencies is not None:
            latencies.append(inp.last_latency)


class _Peer:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "acqflow.dataflow.bench", "--child"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, cfg: dict, latencies: list | None) -> tuple[int, float]:
        self.proc.stdin.write(json.dumps(cfg) + "\n")
        self.proc.stdin.flush()
        params = json.loads(self.proc.stdout.readline())
        inp = InputStream()
        inp.connect(params)
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        n, first, last = _receive(inp, latencies)
        sent = json.loads(self.proc.stdout.readline())["sent"]
        inp.close()
        if n != sent or inp.dropped:
            raise RuntimeError(f"benchmark lost data: sent {sent}, received {n}, dropped {inp.dropped}")
        return n, last - first

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def _run_threads(cfg: dict, latencies: list | None) -> tuple[int, float]:
    chunk = _chunk(cfg["label"])
    out = OutputStream()
    out.configure(**_params(cfg["label"], "inproc", cfg["mode"], chunk, cfg.get("double", False)))
    inp = InputStream()
    inp.connect(out)
    result = {}
    t = threading.Thread(target=lambda: result.update(sent=_send(out, chunk, cfg["seconds"], cfg.get("rate"))))
    t.start()
    receiver = threading.Thread(target=lambda: result.update(got=_receive(inp, latencies)))
    receiver.start()
    t.join()
    out.close()
    receiver.join()
    inp.close()
    n, first, last = result["got"]
    return n, last - first


def memcpy_bandwidth(nbytes: int, seconds: float = 0.3) -> float:
    """Bytes/s of a numpy copy of ``nbytes`` (the reference line)."""
    src = np.ones(nbytes, np.uint8)
    dst = np.empty_like(src)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or n < 3:
        np.copyto(dst, src)
        n += 1
    return n * nbytes / (time.perf_counter() - t0)


def _pct(values: list, q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def run(seconds: float = 1.0, protocols=("tcp", "ipc", "inproc"), modes=("plaindata", "sharedmem"),
        sizes=tuple(SIZES), latency_rate: dict | None = None, double: bool = False) -> list[dict]:
    """Measure every case; returns one dict per row."""
    latency_rate = latency_rate or {"2KiB": 20000, "64KiB": 2000, "4MiB": 50, "video": 30}
    peer = _Peer()
    rows = []
    try:
        for label in sizes:
            nbytes = _chunk(label).nbytes
            ref = memcpy_bandwidth(nbytes)
            for protocol in protocols:
                for mode in modes:
                    cfg = dict(label=label, protocol=protocol, mode=mode, seconds=seconds,
                               double=double)
                    runner = _run_threads if protocol == "inproc" else peer.run
                    n, dt = runner(cfg, None)
                    lat: list = []
                    rate = latency_rate[label]
                    runner(dict(cfg, seconds=min(seconds, 1.0), rate=rate), lat)
                    lat = lat[len(lat) // 10:]   # skip warm-up
                    rows.append(dict(
                        size=label, chunk_bytes=nbytes, protocol=protocol, transfermode=mode,
                        chunks_per_s=n / dt if dt else None, mb_per_s=n * nbytes / dt / 1e6 if dt else None,
                        latency_rate=rate, latency_p50_us=_pct(lat, 50) * 1e6 if lat else None,
                        latency_p99_us=_pct(lat, 99) * 1e6 if lat else None,
                        memcpy_mb_per_s=ref / 1e6, double_ring=double if mode == "sharedmem" else None,
                        between="threads" if protocol == "inproc" else "processes"))
                    print(_format_row(rows[-1]), flush=True)
    finally:
        peer.close()
    return rows


HEADER = (f"{'size':>6} {'protocol':>8} {'mode':>10} {'MB/s':>9} {'chunks/s':>9} "
          f"{'p50 us':>8} {'p99 us':>8} {'@rate/s':>8} {'memcpy MB/s':>11} {'%memcpy':>7}")


def _format_row(r: dict) -> str:
    pct = 100 * r["mb_per_s"] / r["memcpy_mb_per_s"]
    return (f"{r['size']:>6} {r['protocol']:>8} {r['transfermode']:>10} {r['mb_per_s']:9.0f} "
            f"{r['chunks_per_s']:9.0f} {r['latency_p50_us'] or float('nan'):8.0f} "
            f"{r['latency_p99_us'] or float('nan'):8.0f} {r['latency_rate']:8d} "
            f"{r['memcpy_mb_per_s']:11.0f} {pct:6.0f}%")


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="acqflow bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="sending time per case")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma list of " + ",".join(SIZES))
    parser.add_argument("--double", action="store_true",
                        help="sharedmem with a double ring (every chunk written twice)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child()
        return 0
    sizes = [s for s in args.sizes.split(",") if s]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}; choose from {', '.join(SIZES)}")
    print(f"acqflow stream benchmark on {machine()}; sharedmem ring: "
          f"{'double' if args.double else 'single'}")
    print(HEADER)
    rows = run(seconds=args.seconds, sizes=sizes, double=args.double)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "time": clock.now(), "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
