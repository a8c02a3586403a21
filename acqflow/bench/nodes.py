"""Node benchmark: in-process throughput of each processing node (default 64 ch x 30 kHz float32).

Each node is configured, connected to a source stream and initialized, then
fed chunks (30 ms by default) through the same code path as its worker thread
(``feed``; the Epocher's handlers), without transport, for ``--seconds`` of
signal.  The real-time factor (RTF) is how many times faster than real time
the node runs on one core.  Video nodes run on 640x480 BGR frames at 30 fps.
Each chunk also updates the input's time model, as ``InputStream.recv`` does; the
``TimeModel`` row is that update alone (its cost in a node: node RTF / its RTF).
"""
from __future__ import annotations

import os
import platform
import sys
import time
from typing import Any, Callable

import numpy as np

from ..dataflow.streams.outputstream import OutputStream
from ..dataflow.streams.spec import EVENT_DTYPE
from . import harness

__all__ = ["main", "run", "CASES"]


def _analog_cases(fs: float) -> list[tuple[str, str, dict]]:
    bp = dict(btype="bandpass", freq=[300.0, 3000.0], order=4)
    return [
        ("SosFilter", "bandpass 300-3000 Hz order 4", bp),
        ("SosFilter", "notch 50 Hz", dict(btype="notch", freq=50.0)),
        ("OverlapFiltfilt", "bandpass 300-3000 Hz order 4, auto margin", bp),
        ("Decimate", "factor 10 (cheby1 order 8)", dict(factor=10)),
        ("Resample", f"{fs:g} -> 1000 Hz", dict(sample_rate=1000.0)),
        ("AnalogTrigger", "after-stable 10 ms", dict(threshold=0.5, debounce_time=0.01,
                                                     debounce_mode="after-stable")),
        ("DigitalTrigger", "bit 3, before-stable 10 ms", dict(channel=3, debounce_time=0.01,
                                                              debounce_mode="before-stable")),
        ("Epocher", "-10/+50 ms, 10 events/s", dict(pre=0.01, post=0.05)),
        ("TimeFrequency", "4 ch, 5-100 Hz step 5, out 100 Hz", dict(channels=[0, 1, 2, 3], f_start=5.0,
                                                                    f_stop=101.0, deltafreq=5.0)),
        ("Expression", "np.abs(x) * 2", dict(expr="np.abs(x) * 2")),
    ]


_VIDEO_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("ColorConvert", "BGR2GRAY", dict(code="BGR2GRAY")),
    ("Resize", "scale 0.5", dict(scale=0.5)),
    ("Blur", "gaussian 5x5", dict(ksize=5)),
    ("MotionEnergy", "whole frame", {}),
]

CASES = [c[0] for c in _analog_cases(30000.0)] + ["TimeModel"] + [c[0] for c in _VIDEO_CASES]


def _signal(n: int, channels: int, seed: int = 0) -> np.ndarray:
    """Noise plus a 10 Hz square wave on channel 0 (so triggers fire)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, channels)).astype(np.float32)
    x[:, 0] += (np.arange(n) // (n // 20) % 2).astype(np.float32)
    return x


def _setup(node_type: str, config: dict, src_params: dict):
    from .. import nodes  # noqa: F401  (registers the node types)
    from ..dataflow.graph.registry import get_node_type
    src = OutputStream(name="bench source")
    src.configure(protocol="inproc", **src_params)
    node = get_node_type(node_type)(name=node_type)
    node.configure(**config)
    for name, inp in node.inputs.items():
        if name == "events":
            continue
        inp.connect(src)
    for out in node.outputs.values():
        if not out.configured:
            out.configure(protocol="inproc")
    return node, src


def _measure(feed: Callable[[int], None], n_chunks: int, budget: float) -> tuple[float, int]:
    """Seconds spent feeding chunks (stops early after ``budget`` s), and chunks fed."""
    for k in range(min(3, n_chunks)):                # warm-up (caches, FFT plans)
        feed(k)
    t0 = time.perf_counter()
    done = 0
    for k in range(3, 3 + n_chunks):
        feed(k)
        done += 1
        if time.perf_counter() - t0 > budget:
            break
    return time.perf_counter() - t0, done


def _bench_analog(node_type: str, config: dict, fs: float, channels: int, chunk: int,
                  n_chunks: int, budget: float) -> dict:
    digital = node_type == "DigitalTrigger"
    period = max(chunk * 8, int(fs))
    base = _signal(period, channels)
    if digital:
        base = np.ascontiguousarray(((base[:, :1] > 0.5).astype(np.uint8) << 3).repeat(8, axis=1))
        src_params = dict(streamtype="digitalsignal", shape=(-1, 8), sample_rate=fs)
    else:
        src_params = dict(dtype="float32", shape=(-1, channels), sample_rate=fs)
    node, src = _setup(node_type, config, src_params)
    if node_type == "Epocher":
        ev_src = OutputStream()
        ev_src.configure(protocol="inproc", streamtype="event")
        node.inputs["events"].connect(ev_src)
    node.initialize()
    chunks = [base[i:i + chunk] for i in range(0, period - chunk + 1, chunk)]
    every = max(1, int(fs / 10 / chunk))           # Epocher: 10 events per second

    model = next(inp for name, inp in node.inputs.items() if name != "events").time_model
    for k in range(-2000, 0):                    # a stream running for a while: a full window
        model.update(k * chunk, k * chunk / fs)
    model.rate

    def feed(k: int) -> None:
        data = chunks[k % len(chunks)]
        index = (k + 1) * chunk
        model.update(index, index / fs)          # what InputStream.recv adds per chunk
        if node_type == "Epocher":
            node.on_signal(index, data)
            if k % every == 0:
                ev = np.zeros(1, EVENT_DTYPE)
                ev["index"] = index
                node.on_events(k, ev)
        else:
            node.feed(index, data)
    try:
        elapsed, done = _measure(feed, n_chunks, budget)
    finally:
        node.close()
        src.close()
        if node_type == "Epocher":
            ev_src.close()
    rate = done * chunk / elapsed
    return {"samples_per_s": rate, "rtf": rate / fs, "chunks": done}


def _bench_time_model(fs: float, chunk: int, n_chunks: int, budget: float) -> dict:
    """The per-chunk cost of a stream's time model in its steady state (a full window):
    stamps with 1 ms jitter on a clock 50 ppm off."""
    from ..dataflow.streams.timemodel import TimeModel
    model = TimeModel(fs)
    jitter = np.random.default_rng(0).normal(0, 1e-3, 4096)
    rate = fs * (1 + 50e-6)
    for k in range(-2000, 0):                    # a stream running for a while: a full window
        model.update(k * chunk, k * chunk / rate + jitter[k % 4096])

    def feed(k: int) -> None:
        index = (k + 1) * chunk
        model.update(index, (index - 1) / rate + jitter[k % 4096])
    elapsed, done = _measure(feed, n_chunks, budget)
    model.rate                                   # fold in what is queued
    samples = done * chunk / elapsed
    return {"samples_per_s": samples, "rtf": samples / fs, "chunks": done}


def _bench_video(node_type: str, config: dict, n_frames: int, budget: float) -> dict:
    h, w, fps = 480, 640, 30.0
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (8, h, w, 3), dtype=np.uint8)
    node, src = _setup(node_type, config, dict(streamtype="video", shape=(-1, h, w, 3), sample_rate=fps))
    node.initialize()
    try:
        elapsed, done = _measure(lambda k: node.feed(k + 1, frames[k % 8][None]), n_frames, budget)
    finally:
        node.close()
        src.close()
    rate = done / elapsed
    return {"samples_per_s": rate, "rtf": rate / fps, "chunks": done}


def run(seconds: float = 10.0, channels: int = 64, rate: float = 30000.0, chunk_ms: float = 30.0,
        only: list[str] | None = None, video: bool = True, budget: float = 20.0) -> list[dict]:
    """Benchmark every case (or the node types in ``only``); one dict per case."""
    chunk = max(1, int(round(rate * chunk_ms / 1000.0)))
    n_chunks = max(1, int(seconds * rate / chunk))
    results = []
    for node_type, desc, config in _analog_cases(rate):
        if only and node_type not in only:
            continue
        r = _bench_analog(node_type, config, rate, channels, chunk, n_chunks, budget)
        ch = 8 if node_type == "DigitalTrigger" else channels
        results.append({"node": node_type, "config": desc, "input": f"{ch} ch x {rate:g} Hz", **r})
    if not only or "TimeModel" in only:
        r = _bench_time_model(rate, chunk, max(n_chunks, 5000), budget)
        results.append({"node": "TimeModel", "config": "update per chunk (InputStream.recv)",
                        "input": f"{chunk}-sample chunks", **r})
    if video:
        for node_type, desc, config in _VIDEO_CASES:
            if only and node_type not in only:
                continue
            r = _bench_video(node_type, config, max(1, int(seconds * 30)), budget)
            results.append({"node": node_type, "config": desc, "input": "640x480x3 @ 30 fps", **r})
    return results


def _table(results: list[dict]) -> str:
    head = f"{'node':<16} {'config':<44} {'input':<20} {'samples/s':>12} {'RTF':>8}"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(f"{r['node']:<16} {r['config']:<44} {r['input']:<20} "
                     f"{r['samples_per_s']:>12,.0f} {r['rtf']:>8.1f}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """``acqflow bench nodes``: print a table of node throughputs (``--json FILE`` too)."""
    parser = harness.parser("nodes", __doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of signal per node (10)")
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--rate", type=float, default=30000.0, help="sample rate in Hz (30000)")
    parser.add_argument("--chunk-ms", type=float, default=30.0, help="chunk duration in ms (30)")
    parser.add_argument("--only", default="", help="comma-separated node types to run")
    parser.add_argument("--no-video", action="store_true", help="skip the video nodes")
    parser.add_argument("--budget", type=float, default=20.0, help="max seconds per node (20)")
    args = parser.parse_args(argv)
    only = [s for s in args.only.split(",") if s] or None
    results = run(args.seconds, args.channels, args.rate, args.chunk_ms, only, not args.no_video,
                  args.budget)
    print(f"acqflow node benchmark: {args.channels} ch x {args.rate:g} Hz float32, "
          f"{args.chunk_ms:g} ms chunks, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores")
    print(_table(results))
    harness.write_json(args.json, results, channels=args.channels, rate=args.rate, chunk_ms=args.chunk_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
