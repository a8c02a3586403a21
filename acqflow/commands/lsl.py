"""``acqflow lsl record OUT [--duration S] [--match SUBSTR ...] [--watch]`` (LabRecorder's job)
and ``acqflow lsl list`` (the streams visible now).

``main(argv)`` returns the exit status: 0 recorded (and committed), 1 failed, 2 usage error.
Ctrl-C (SIGINT) or SIGTERM ends the recording cleanly.
"""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="acqflow lsl", description="Lab Streaming Layer tools")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p = sub.add_parser("record", help="record every visible LSL stream into one recording",
                       description="record every visible LSL stream (or those whose name "
                       "contains a --match) with LSL time stamps and clock offsets; "
                       "Ctrl-C ends it and commits the recording")
    p.add_argument("out", metavar="OUT", help="recording directory to create")
    p.add_argument("--duration", type=float, metavar="S", help="seconds (default: until Ctrl-C)")
    p.add_argument("--match", nargs="+", metavar="SUBSTR", default=[],
                   help="only streams whose name contains one of these")
    p.add_argument("--watch", action="store_true",
                   help="also record streams that appear later")
    p.add_argument("--resolve-wait", type=float, default=2.0, metavar="S",
                   help="seconds to wait for streams to answer at start (default 2)")
    p.add_argument("--sync-interval", type=float, default=5.0, metavar="S",
                   help="seconds between clock-offset measurements (default 5)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace OUT if it is a recording, once recording has started (if "
                        "no stream is visible, OUT is left as it was)")
    p.add_argument("--debug", action="store_true", help="tracebacks and debug logging")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p = sub.add_parser("list", help="list the LSL streams visible now",
                       description="list the LSL streams answering within --wait seconds")
    p.add_argument("--wait", type=float, default=1.0, metavar="S", help="seconds (default 1)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--debug", action="store_true", help="tracebacks")
    return parser


def _list(args: argparse.Namespace) -> int:
    from ..lsl.info import visible_streams
    found = visible_streams(args.wait)
    if args.json:
        print(json.dumps(found, indent=1))
        return 0
    for s in found:
        print(f"{s['name']!r}: {s['type']}, {s['channels']} ch {s['format']} at {s['rate']:g} Hz, "
              f"source_id {s['source_id']!r}, host {s['hostname']}")
    if not found:
        print(f"no LSL stream answered within {args.wait:g} s")
    return 0


def _record(args: argparse.Namespace) -> int:
    from ..lsl.recorder import record
    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))

    def on_stream(cap) -> None:
        say(f"recording {cap.key[0]!r} ({cap.key[1]}, {cap.channels} ch, {cap.rate:g} Hz, "
            f"source_id {cap.key[2]!r}) as {cap.name!r}")
    try:
        summary = record(args.out, args.duration, args.match, args.watch, stop=stop,
                         resolve_wait=args.resolve_wait, sync_interval=args.sync_interval,
                         mode="overwrite" if args.overwrite else "create", on_stream=on_stream)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    for s in summary["streams"]:
        say(f"  {s['name']}: {s['samples']} samples, {s['offsets']} clock offsets"
            + (f", {s['reconnects']} reconnect(s)" if s["reconnects"] else "")
            + (" (lost at the end)" if s["lost"] else ""))
    say(f"wrote {summary['path']} ({len(summary['streams'])} streams, "
        f"{summary['duration_s']:.1f} s, committed)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``acqflow lsl ...``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["lsl"]:
        argv = argv[1:]
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return _record(args) if args.command == "record" else _list(args)
    except Exception as exc:
        if args.debug:
            raise
        text = str(exc)
        print(f"acqflow lsl {args.command}: {text[:500]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
