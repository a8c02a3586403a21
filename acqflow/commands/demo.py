"""`acqflow demo`: a built-in graph, running across three processes.

A synthetic 16-channel 1 kHz device feeds a band-pass filter; both streams go
to a recorder.  The console shows, live, each stream's rate, latency and
losses, each node's state and CPU, and sparklines of channel 0 before and after
the filter; at the end the recording is opened and summarised.  With a display
and the qt extra installed, an oscilloscope of the filtered signal joins the
graph in a fourth (Qt) process; ``--viewer`` / ``--no-viewer`` force the choice.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from typing import Any

import numpy as np

from ..dataflow import InputStream
from ..dataflow.graph.graphspec import GraphSpec
from ..manager import Manager
from ..manager.build import build_graph
from ..manager.console import LiveView, StatsTable
from ..rpc.proxy import get_value

__all__ = ["main", "demo_graph"]

_BARS = " ▁▂▃▄▅▆▇█"


def qt_missing() -> str | None:
    """Why the qt extra cannot be used here (the first module it lacks), None when it can."""
    for module in ("PyQt5", "pyqtgraph"):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError) as exc:
            return f"{module}: {exc}"
        if not found:
            return f"no module named {module!r}"
    return None


def display_available() -> bool:
    """True when Qt windows can be shown: a display, a real platform plugin, the qt extra."""
    if os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal"):
        return False
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    return qt_missing() is None


def demo_graph(dirname: str, channels: int = 16, sample_rate: float = 1000.0,
               viewer: bool = False) -> GraphSpec:
    """The demo's graph: device -> band-pass -> recorder (raw and filtered), and with
    ``viewer`` an oscilloscope of the filtered signal in a Qt process."""
    freqs = [3.0 + 2.5 * k for k in range(channels)]
    graph: dict[str, Any] = {
        "groups": {"acquisition": {}, "processing": {}, "recording": {}},
        "nodes": {
            "device": {"type": "SyntheticSignal", "group": "acquisition",
                       "params": {"channels": channels, "sample_rate": sample_rate, "chunksize": 20,
                                  "waveform": "sine", "frequencies": freqs}},
            "bandpass": {"type": "SosFilter", "group": "processing",
                         "params": {"btype": "bandpass", "freq": [8.0, 30.0], "order": 4}},
            "recorder": {"type": "Recorder", "group": "recording",
                         "params": {"streams": ["raw", "filtered"], "dirname": dirname,
                                    "mode": "overwrite"}},
        },
        "connections": [
            {"from": "device.signals", "to": "bandpass.input"},
            {"from": "device.signals", "to": "recorder.raw"},
            {"from": "bandpass.output", "to": "recorder.filtered"},
        ],
    }
    if viewer:
        graph["groups"]["display"] = {"qt": True}
        graph["nodes"]["scope"] = {"type": "Oscilloscope", "group": "display",
                                   "params": {"xsize": 3.0, "title": "acqflow demo: band-pass 8-30 Hz"}}
        graph["connections"].append({"from": "bandpass.output", "to": "scope.signals"})
    return GraphSpec.from_dict(graph, source="demo graph")


def sparkline(values: np.ndarray, lo: float = -1.2, hi: float = 1.2) -> str:
    idx = np.clip(((values - lo) / (hi - lo) * (len(_BARS) - 1)).round().astype(int), 0, len(_BARS) - 1)
    return "".join(_BARS[i] for i in idx)


def _tap(output, seconds: float = 2.0) -> InputStream:
    inp = InputStream(name="demo")
    inp.connect(output)
    inp.set_buffer(int(get_value(output.params)["sample_rate"] * seconds))
    return inp


def _drain(inp: InputStream) -> None:
    while inp.poll(0):
        inp.recv(timeout=0)


def _summary(dirname: str) -> list[str]:
    from ..storage import open_recording
    rec = open_recording(dirname)
    lines = [f"recording {dirname}: committed={rec.committed}"]
    for name, stream in rec.streams.items():
        t0, t1 = stream.time_range or (0.0, 0.0)      # (an empty stream: nothing recorded)
        rate = "events" if stream.streamtype == "event" else f"@ {stream.params['sample_rate']:g} Hz"
        lines.append(f"  {name:<9} {len(stream):7d} samples x {stream.params['shape'][1]} ch "
                     f"{rate}, {t1 - t0:5.1f} s, gaps {len(stream.gaps)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """``acqflow demo``: run the built-in graph with its options in ``argv``; the exit code."""
    parser = argparse.ArgumentParser(prog="acqflow demo", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=None, help="seconds to run (default: until Ctrl-C)")
    parser.add_argument("--record", metavar="DIR", help="recording directory, kept (default: a "
                        "temporary one, removed at the end unless --keep)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary recording")
    parser.add_argument("--channels", type=int, default=16,
                        help="synthetic channels, channel k a sine at 3 + 2.5 k Hz (default: 16)")
    parser.add_argument("--viewer", action=argparse.BooleanOptionalAction, default=None,
                        help="show an oscilloscope (default: when a display is available)")
    parser.add_argument("--web", metavar="[HOST:]PORT", help="serve the web monitor (docs/monitor.md)")
    parser.add_argument("--web-token", metavar="TOKEN", help="token for the web monitor (default: generated)")
    args = parser.parse_args(argv)
    viewer = display_available() if args.viewer is None else args.viewer
    if viewer and (missing := qt_missing()):
        print(f"acqflow demo: --viewer needs the qt extra: pip install 'acqflow[qt]' ({missing})",
              file=sys.stderr)
        return 2
    dirname = args.record or tempfile.mkdtemp(prefix="acqflow-demo-")
    try:
        return _run(args, viewer, dirname)
    finally:
        if not args.record and not args.keep:
            shutil.rmtree(dirname, ignore_errors=True)
            print(f"removed the demo recording {dirname} (to keep it: --keep, or --record DIR)")


def _run(args: argparse.Namespace, viewer: bool, dirname: str) -> int:
    """The demo itself: build, run until Ctrl-C or --duration, summarise the recording."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    table = StatsTable()
    with Manager() as manager:
        build_graph(demo_graph(dirname, args.channels, viewer=viewer), manager)
        raw, filtered = _tap(manager.node("device").outputs["signals"]), _tap(manager.node("bandpass").output)
        manager.start_all()
        try:
            monitor = manager.serve_web(args.web, token=args.web_token) if args.web else None
        except (ValueError, OSError, ImportError) as exc:
            print(f"acqflow demo: {exc}", file=sys.stderr)
            return 2
        print(f"acqflow demo: {args.channels} channels at 1 kHz -> band-pass 8-30 Hz -> recorder "
              f"({dirname}){' + oscilloscope' if viewer else ''}; Ctrl-C to stop", flush=True)
        started = time.monotonic()
        table.update(manager.stats())
        with LiveView(sys.stdout) as view:
            while not stop.wait(1.0):
                for inp in (raw, filtered):
                    _drain(inp)
                lines = table.update(manager.stats())
                shown = {ch: f"ch{ch} ({3.0 + 2.5 * ch:g} Hz)" for ch in sorted({0, min(4, args.channels - 1)})}
                width = max(map(len, shown.values()))      # sparklines start in one column
                for ch, name in shown.items():
                    for label, inp in (("raw", raw), ("filtered", filtered)):
                        ring = inp.buffer
                        if ring is not None and ring.index() - ring.first_index() >= 200:
                            lines.append(f"{name:<{width}} {label:<8} {sparkline(ring[-200::5][:, ch])}")
                view.show(f"--- {time.monotonic() - started:5.1f} s ---\n" + "\n".join(lines))
                if args.duration is not None and time.monotonic() - started >= args.duration:
                    break
        raw.close()
        filtered.close()
        if monitor:
            monitor.close()
    print("\n".join(_summary(dirname)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
