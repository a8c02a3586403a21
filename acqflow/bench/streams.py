"""Stream benchmark: throughput and latency between two OS processes.

For each protocol x transfermode and chunk size (float32, 16 channels: 2 KiB,
64 KiB, 4 MiB; and one 1920x1080x3 video frame) a child process sends and this
process receives, reading every byte of every chunk (copying it out, as a user
does; ``--no-touch`` measures the transport alone).  Throughput uses
``backpressure='block'`` (nothing is lost, so the figure is what both ends
sustain); latency (send stamp to recv) is taken with paced sends.  memcpy of the
same size is the reference line; beside sharedmem rows the rate at which one core
copies the same chunks into and back out of a ring of the same size, and beside
tcp/ipc rows of large chunks a bare pyzmq PUB/SUB pair between two processes with
the same socket options: the ceilings.  inproc cannot cross processes, so it is
measured between two threads.  ``--hops N`` measures a chain of processes
instead; a drop-mode overload case ends the run.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np

from ..dataflow.streams.cpulatency import run_holding
from ..dataflow.errors import StreamClosed
from ..dataflow.streams.inputstream import InputStream
from ..dataflow.streams.outputstream import OutputStream
from . import harness
from .ceilings import ring_copy_rate, zmq_pubsub_rate

__all__ = ["main", "run"]

SIZES = {  # label: (shape of one chunk, streamtype)
    "2KiB": ((32, 16), "analogsignal"),
    "64KiB": ((1024, 16), "analogsignal"),
    "1MiB": ((16384, 16), "analogsignal"),
    "4MiB": ((65536, 16), "analogsignal"),
    "video": ((1, 1080, 1920, 3), "video"),
}


def _chunk(label: str) -> np.ndarray:
    shape, kind = SIZES[label]
    dtype = "uint8" if kind == "video" else "float32"
    return np.random.default_rng(0).integers(0, 200, size=shape).astype(dtype)


def _params(label: str, protocol: str, mode: str, chunk: np.ndarray, double: bool = False,
            backpressure: str = "block") -> dict:
    """Stream params of one case.  A sharedmem ring is single unless ``double``: a double
    ring (pyacq's default, any window one contiguous view) writes every chunk twice."""
    _, kind = SIZES[label]
    extra = {"double": double} if mode == "sharedmem" else {}
    return dict(protocol=protocol, transfermode=mode, streamtype=kind, dtype=str(chunk.dtype),
                shape=(-1,) + chunk.shape[1:], backpressure=backpressure,
                buffer_size=4 * chunk.shape[0] if kind == "video" else max(4 * chunk.shape[0], 1024),
                hwm=max(4, min(1000, (64 << 20) // chunk.nbytes)), **extra)


def _send(out: OutputStream, chunk: np.ndarray, seconds: float, rate: float | None) -> int:
    """Send ``chunk`` repeatedly for ``seconds``, paced at ``rate`` chunks/s if given.

    Pacing sleeps (never spins), so the receiver keeps its CPU and, between
    threads, the GIL; when a sleep overshoots, the late chunks go out back to back.
    """
    n = 0
    for _ in harness.paced(seconds, rate):
        out.send(chunk)
        n += 1
    return n


def _child() -> None:
    """Sender side, driven by JSON lines on stdin."""
    for line in sys.stdin:
        cfg = json.loads(line)
        chunk = _chunk(cfg["label"])
        out = OutputStream(name="bench")
        out.configure(**_params(cfg["label"], cfg["protocol"], cfg["mode"], chunk, cfg.get("double", False),
                                cfg.get("backpressure", "block")))
        print(json.dumps(out.params), flush=True)
        sys.stdin.readline()                      # "go"
        sent = _send(out, chunk, cfg["seconds"], cfg.get("rate"))
        out.close()
        print(json.dumps({"sent": sent}), flush=True)


class Reader:
    """Reads every byte of each chunk it is given, copying it out (what a user does
    with a chunk), unless ``touch`` is False; ``delay`` s of work after each chunk
    makes a slow consumer."""

    def __init__(self, inp: InputStream, rows: int, touch: bool = True, delay: float = 0.0):
        self.inp, self.rows, self.touch, self.delay = inp, rows, touch, delay
        # a lossy sharedmem stream may overwrite a chunk being read: take recv's checked copy
        self.view = inp.params.get("transfermode") == "sharedmem" and inp.params["backpressure"] == "block"
        self.dst: np.ndarray | None = None

    def recv(self, timeout: float) -> None:
        index, data = self.inp.recv(timeout=timeout, return_data=False if self.view else True)
        if self.touch:
            if self.view:    # a zero-copy view on the ring (held until the next recv), then out of it
                data = self.inp.get_array_slice(index, self.rows)
            assert data is not None              # (returned, or the view)
            if self.dst is None or self.dst.shape != data.shape:
                self.dst = np.empty_like(data)
            np.copyto(self.dst, data)
        if self.delay:
            time.sleep(self.delay)


def _receive(reader: Reader, latencies: list | None) -> tuple[int, float, float]:
    """Receive until the output closes; returns (chunks, first time, last time)."""
    inp = reader.inp
    n, first, last = 0, None, None
    while True:
        try:
            reader.recv(timeout=20000)
        except StreamClosed:
            return n, first or 0.0, last or 0.0
        last = time.perf_counter()
        first = first or last
        n += 1
        if latencies is not None:
            latencies.append(inp.last_latency)




class _Peer:
    """The sending process, driven by JSON lines on its stdin."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "acqflow.bench.streams", "--child"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None    # (pipes)
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout

    def start(self, cfg: dict) -> InputStream:
        self.stdin.write(json.dumps(cfg) + "\n")
        self.stdin.flush()
        params = json.loads(self.stdout.readline())
        inp = InputStream()
        inp.connect(params)
        self.stdin.write("go\n")
        self.stdin.flush()
        return inp

    def sent(self) -> int:
        return json.loads(self.stdout.readline())["sent"]

    def run(self, cfg: dict, latencies: list | None) -> tuple[int, float]:
        inp = self.start(cfg)
        n, first, last = _receive(Reader(inp, _chunk(cfg["label"]).shape[0], cfg["touch"]), latencies)
        sent = self.sent()
        inp.close()
        if n != sent or inp.dropped:
            raise RuntimeError(f"benchmark lost data: sent {sent}, received {n}, dropped {inp.dropped}")
        return n, last - first

    def close(self) -> None:
        self.stdin.close()
        self.proc.wait()


def _run_threads(cfg: dict, latencies: list | None) -> tuple[int, float]:
    chunk = _chunk(cfg["label"])
    out = OutputStream()
    out.configure(**_params(cfg["label"], "inproc", cfg["mode"], chunk, cfg.get("double", False)))
    inp = InputStream()
    inp.connect(out)
    result: dict[str, Any] = {}
    t = threading.Thread(target=lambda: result.update(sent=_send(out, chunk, cfg["seconds"], cfg.get("rate"))))
    t.start()
    reader = Reader(inp, chunk.shape[0], cfg["touch"])
    receiver = threading.Thread(target=lambda: result.update(got=_receive(reader, latencies)))
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


def _ceiling(label: str, protocol: str, mode: str, seconds: float, double: bool, touch: bool) -> float | None:
    """Bytes/s of the case's ceiling: the ring copy for sharedmem, a bare pyzmq
    PUB/SUB pair for tcp/ipc chunks of 1 MiB and more; None otherwise."""
    chunk = _chunk(label)
    params = _params(label, protocol, mode, chunk, double)
    if mode == "sharedmem":
        return ring_copy_rate(chunk, params["buffer_size"], double=double, touch=touch)
    if protocol != "inproc" and chunk.nbytes >= 1 << 20:
        return zmq_pubsub_rate(chunk.nbytes, protocol, params["hwm"], min(seconds, 1.0), touch=touch)
    return None


def run(seconds: float = 1.0, protocols=("tcp", "ipc", "inproc"), modes=("plaindata", "sharedmem"),
        sizes=tuple(SIZES), latency_rate: dict | None = None, double: bool = False,
        touch: bool = True, ceilings: bool = True) -> list[dict]:
    """Measure every case; returns one dict per row (printed as it comes)."""
    latency_rate = latency_rate or {"2KiB": 20000, "64KiB": 2000, "1MiB": 200, "4MiB": 50, "video": 30}
    peer = _Peer()
    rows = []
    try:
        for label in sizes:
            nbytes = _chunk(label).nbytes
            ref = memcpy_bandwidth(nbytes)
            for protocol in protocols:
                for mode in modes:
                    cfg = dict(label=label, protocol=protocol, mode=mode, seconds=seconds,
                               double=double, touch=touch)
                    runner = _run_threads if protocol == "inproc" else peer.run
                    # the ceiling measured just before and just after the row, averaged: on a
                    # shared machine the load drifts, and a ceiling taken at another moment
                    # than the row would make their ratio swing
                    before = _ceiling(label, protocol, mode, seconds, double, touch) if ceilings else None
                    n, dt = runner(cfg, None)
                    after = _ceiling(label, protocol, mode, seconds, double, touch) if before else None
                    ceiling = (before + after) / 2 if before and after else None
                    lat: list = []
                    rate = latency_rate[label]
                    runner(dict(cfg, seconds=min(seconds, 1.0), rate=rate), lat)
                    lat = lat[len(lat) // 10:]   # skip warm-up
                    mb = n * nbytes / dt / 1e6 if dt else None
                    rows.append(dict(
                        size=label, chunk_bytes=nbytes, protocol=protocol, transfermode=mode,
                        chunks_per_s=n / dt if dt else None, mb_per_s=mb,
                        latency_rate=rate, latency_p50_us=(harness.pct(lat, 50) or 0.0) * 1e6 if lat else None,
                        latency_p99_us=(harness.pct(lat, 99) or 0.0) * 1e6 if lat else None,
                        memcpy_mb_per_s=ref / 1e6, pct_memcpy=100 * mb / (ref / 1e6) if mb else None,
                        ceiling=None if ceiling is None else ("ring in+out" if mode == "sharedmem"
                                                              else "bare pyzmq"),
                        ceiling_mb_per_s=None if ceiling is None else ceiling / 1e6,
                        pct_ceiling=100 * mb / (ceiling / 1e6) if ceiling and mb else None,
                        double_ring=double if mode == "sharedmem" else None, touch=touch,
                        between="threads" if protocol == "inproc" else "processes"))
                    TABLE.print_row(rows[-1])
    finally:
        peer.close()
    return rows


TABLE = harness.Table([
    ("size", "size", "{}"), ("protocol", "protocol", "{}"), ("transfermode", "mode", "{}", 9),
    ("mb_per_s", "MB/s", "{:.0f}"), ("chunks_per_s", "chunks/s", "{:.0f}"),
    ("latency_p50_us", "p50 us", "{:.0f}"), ("latency_p99_us", "p99 us", "{:.0f}"),
    ("latency_rate", "@rate/s", "{:d}"), ("memcpy_mb_per_s", "memcpy MB/s", "{:.0f}"),
    ("pct_memcpy", "%memcpy", "{:.0f}%"), ("ceiling", "ceiling", "{}", 11),
    ("ceiling_mb_per_s", "ceiling MB/s", "{:.0f}"), ("pct_ceiling", "%ceiling", "{:.0f}%")])


def overload(seconds: float = 1.0, protocols=("tcp",), modes=("plaindata", "sharedmem"),
             label: str = "64KiB", delay: float = 0.0005, touch: bool = True) -> list[dict]:
    """Drop mode under overload: an unpaced sender and a reader slowed by ``delay`` s per
    chunk; what was received plus what the input counted as dropped, against what was sent."""
    peer = _Peer()
    rows = []
    try:
        for protocol in protocols:
            for mode in modes:
                cfg = dict(label=label, protocol=protocol, mode=mode, seconds=seconds, backpressure="drop")
                chunk = _chunk(label)
                inp = peer.start(cfg)
                reader = Reader(inp, chunk.shape[0], touch, delay)
                last = 0
                while True:
                    try:
                        reader.recv(timeout=5000)
                        last = inp.received_samples + inp.dropped
                    except StreamClosed:
                        ended = "closed"
                        break
                    except TimeoutError:
                        ended = "timed out"
                        break
                sent = peer.sent() * chunk.shape[0]
                got, dropped = inp.received_samples, inp.dropped
                inp.close()
                rows.append(dict(size=label, protocol=protocol, transfermode=mode, sent=sent, received=got,
                                 dropped=dropped, unaccounted=sent - got - dropped, gaps=inp.gaps,
                                 after_last_chunk=sent - last, ended=ended))
                print(f"  {label} {protocol} {mode:>9}: sent {sent} samples, received {got} + dropped "
                      f"{dropped} = {got + dropped} ({sent - got - dropped} unaccounted, of which "
                      f"{sent - last} after the last chunk received); {inp.gaps} gaps; stream {ended}",
                      flush=True)
    finally:
        peer.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = harness.parser("", __doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="sending time per case")
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma list of " + ",".join(SIZES))
    parser.add_argument("--double", action="store_true",
                        help="sharedmem with a double ring (every chunk written twice)")
    parser.add_argument("--no-touch", action="store_true",
                        help="the reader does not read the data (the transport alone)")
    parser.add_argument("--no-ceilings", action="store_true", help="skip the ring-copy and bare pyzmq ceilings")
    parser.add_argument("--no-overload", action="store_true", help="skip the drop-mode overload case")
    parser.add_argument("--hops", type=int, metavar="N",
                        help="instead: a chain device -> N-1 relays -> sink (N hops, N+1 processes)")
    parser.add_argument("--hop-rate", type=float, default=2000.0, help="chunks/s sent in the chain (2000)")
    parser.add_argument("--hop-seconds", type=float, default=5.0, help="sending time of the chain (5)")
    parser.add_argument("--hop-protocol", default="tcp", choices=["tcp", "ipc"])
    parser.add_argument("--hop-mode", default="sharedmem", choices=["plaindata", "sharedmem"])
    parser.add_argument("--hop-spin", type=float, default=0.0, metavar="MS",
                        help="readers busy-wait this long (ms) before sleeping (InputStream(spin=))")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cpu-latency", type=int, metavar="US",
                        help="hold a PM QoS request: every core wakes within US us (0: they poll; root)")
    args = parser.parse_args(argv)
    if args.child:
        _child()
        return 0
    return run_holding(args.cpu_latency, "acqflow bench", lambda: _main(args, parser))


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.hops is not None:
        from .hops import main_hops
        return main_hops(args)
    sizes = [s for s in args.sizes.split(",") if s]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}; choose from {', '.join(SIZES)}")
    touch = not args.no_touch
    print(f"acqflow stream benchmark on {harness.machine()}; sharedmem ring: "
          f"{'double' if args.double else 'single'}; reader "
          f"{'reads every byte' if touch else 'does not read the data (--no-touch)'}")
    TABLE.print_header()
    rows = run(seconds=args.seconds, sizes=sizes, double=args.double, touch=touch,
               ceilings=not args.no_ceilings)
    over = []
    if not args.no_overload:
        print("overload, backpressure='drop', unpaced sender, reader 0.5 ms per chunk:")
        over = overload(seconds=min(args.seconds, 1.0), touch=touch)
    harness.write_json(args.json, rows, overload=over, double=args.double, touch=touch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
