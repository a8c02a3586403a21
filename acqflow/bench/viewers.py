"""`acqflow bench viewers`: oscilloscope frames per second for many channels at 30 kHz.

A SyntheticSignal in another process streams (time, channels) float32 at
``--rate``; an Oscilloscope in this process (offscreen unless a display is
asked for) draws as fast as it can: each frame reads the new samples,
decimates them and repaints the widget.  Reported: frames per second, the
milliseconds per frame spent updating and painting, the sample rate actually
received, and the samples the display skipped or the stream dropped.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any

from . import harness

__all__ = ["main", "bench_oscilloscope"]


def bench_oscilloscope(channels: int, rate: float = 30000.0, seconds: float = 3.0, xsize: float = 3.0,
                       transfermode: str = "plaindata", waveform: str = "sine",
                       size: tuple[int, int] = (1200, 800)) -> dict[str, Any]:
    """Measure one configuration; the feeder runs in a spawned process."""
    from ..rpc import ProcessSpawner
    from ..viewers.base import get_app
    from ..viewers.oscilloscope import Oscilloscope

    app = get_app()
    chunk = max(1, int(rate // 100))                    # 10 ms chunks
    with ProcessSpawner(name=f"bench-feeder-{channels}") as feeder:
        rdev = feeder.client.import_module("acqflow.devices.synthetic")
        src = rdev.SyntheticSignal(name="feeder")
        src.configure(channels=channels, sample_rate=float(rate), chunksize=chunk, waveform=waveform,
                      frequencies=[1.0 + (i % 7) for i in range(channels)], amplitude=1.0)
        extra = {"buffer_size": int(rate * xsize * 4)} if transfermode == "sharedmem" else {}
        src.outputs["signals"].configure(protocol="tcp" if transfermode == "plaindata" else "ipc",
                                         transfermode=transfermode, **extra)
        src.initialize()
        scope = Oscilloscope(name="bench_scope")
        scope.configure(xsize=xsize, size=size)
        scope.input.connect(src.outputs["signals"])
        scope.initialize()
        scope.start()
        scope._timer.stop()                              # frames are driven below, back to back
        src.start()
        assert scope.widget is not None              # (made by initialize())
        try:
            warm = time.monotonic() + 1.0
            while time.monotonic() < warm:
                scope.refresh()
                scope.widget.repaint()
                app.processEvents()
            skipped0, samples0 = scope.skipped, scope.input.received_samples
            frames, t_update, t_paint = 0, 0.0, 0.0
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                a = time.perf_counter()
                drew = scope.refresh()
                b = time.perf_counter()
                if drew:
                    scope.widget.repaint()
                    frames += 1
                app.processEvents()
                c = time.perf_counter()
                t_update, t_paint = t_update + (b - a if drew else 0), t_paint + (c - b if drew else 0)
            elapsed = time.perf_counter() - t0
            received = (scope.input.received_samples - samples0) / elapsed
            result = {"channels": channels, "rate": rate, "transfermode": transfermode,
                      "waveform": waveform, "xsize": xsize, "size": list(size), "fps": frames / elapsed,
                      "update_ms": 1e3 * t_update / max(1, frames),
                      "paint_ms": 1e3 * t_paint / max(1, frames),
                      "decimation": scope.env.k if scope.env is not None else None, "received_rate": received,
                      "skipped": scope.skipped - skipped0, "dropped": scope.input.dropped}
        finally:
            src.stop()
            scope.close()
            src.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = harness.parser("viewers", __doc__)
    parser.add_argument("--channels", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--rate", type=float, default=30000.0, help="samples per second per channel")
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per case")
    parser.add_argument("--xsize", type=float, default=3.0, help="time window shown (s)")
    parser.add_argument("--transfermode", choices=["plaindata", "sharedmem"], default="plaindata")
    parser.add_argument("--waveform", choices=["sine", "square", "noise"], default="sine")
    parser.add_argument("--size", default="1200x800", help="window size in pixels, WxH")
    parser.add_argument("--display", action="store_true", help="draw on the real display, not offscreen")
    args = parser.parse_args(argv)
    if not args.display:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    w, h = (int(x) for x in args.size.lower().split("x"))
    results = []
    print(f"{'channels':>8} {'rate':>8} {'mode':>10} {'fps':>7} {'update ms':>10} {'paint ms':>9} "
          f"{'decim':>6} {'recv S/s':>10} {'skipped':>8} {'dropped':>8}")
    for n in args.channels:
        r = bench_oscilloscope(n, args.rate, args.seconds, args.xsize, args.transfermode,
                               args.waveform, (w, h))
        results.append(r)
        print(f"{n:>8} {r['rate']:>8.0f} {r['transfermode']:>10} {r['fps']:>7.1f} {r['update_ms']:>10.2f} "
              f"{r['paint_ms']:>9.2f} {r['decimation']:>6} {r['received_rate']:>10.0f} "
              f"{r['skipped']:>8} {r['dropped']:>8}", flush=True)
    harness.write_json(args.json, results, qt_platform=os.environ.get("QT_QPA_PLATFORM", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
