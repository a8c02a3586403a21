"""``acqflow rec align``: fit streams to one clock from a shared sync line and print the fit."""
from __future__ import annotations

import argparse

from ..storage.reader import Recording

__all__ = ["HELP", "add_arguments", "run"]

HELP = ("fit streams to one clock from a shared sync line (TTL pulses or barcodes) and store "
        "it: readers and exports then use it")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``rec align``."""
    p.add_argument("--line", action="append", required=True, metavar="STREAM:CHANNEL[:BIT]",
                   help="a stream's sync channel (index or name; 'mean' for video); twice or more")
    p.add_argument("--reference", help="stream whose clock is the common one (default: first)")
    p.add_argument("--barcodes", action="store_true", help="the lines carry barcodes")
    p.add_argument("--same-clock", action="append", default=[], metavar="STREAM=LINESTREAM",
                   help="STREAM has no sync line but LINESTREAM's sample clock (same device)")


def run(rec: Recording, args: argparse.Namespace) -> int:
    """Align ``rec`` as ``args`` say, store the fit and print one line per stream."""
    from ..storage.align import align_recording
    result = align_recording(rec, args.line, args.reference, args.barcodes, args.same_clock)
    print(f"{rec.url}: common clock = stream {next(iter(result.values()))['reference']!r}"
          " (its stamps, robust linear fit)")
    for name, al in result.items():
        if al.get("same_clock_as"):
            print(f"  {name}: on the sample clock of {al['same_clock_as']!r}")
            continue
        what = "stamp residual" if name == al["reference"] else "residual"
        steps = f", {len(al['pieces'])} pieces (clock steps)" if len(al["pieces"]) > 1 else ""
        print(f"  {name} ({al['line']}): {al['pulses']} pulses, {al['matched']} matched, "
              f"rate {al['rate']:.9g} Hz, drift {al['drift_ppm']:+.2f} ppm, {what} "
              f"p50 {al['residual_p50'] * 1e3:.4g} ms p99 {al['residual_p99'] * 1e3:.4g} ms"
              + steps)
    return 0
