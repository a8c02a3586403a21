"""``acqflow rec``: inspect, export, verify, upload and import recordings; cache stats.

``main(argv)`` takes the words after ``acqflow rec`` (a leading ``rec`` is accepted
too) and returns the exit status: 0 fine, 1 damaged / failed, 2 usage error.
Remote URLs take ``--storage-options JSON`` (fsspec keyword arguments) and read
through a LocalCache (``--cache-dir``, default ``$ACQFLOW_CACHE_DIR``).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import socket
import sys
import time
from typing import Any, Callable

from ..dataflow.paramcheck import must_be, refusal
from . import rec_align
from ..storage.backends import is_local, local_path, lock_owner
from ..storage.errors import DamagedManifestError, GapError, StorageError
from ..storage.export import to_csv, to_npy, to_wav, to_wav_parts
from ..storage.reader import Recording, block_layout, open_recording

__all__ = ["main", "describe", "writer_state"]

FORMATS = ("npy", "csv", "wav", "mp4", "avi", "h5", "nwb", "xdf")
_ALIASES = {"hdf5": "h5", "mkv": "avi", "mov": "mp4"}


def _iso(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(
        timespec="milliseconds")


def _options(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--storage-options is not JSON: {exc}") from None
    if not isinstance(value, dict):
        must_be("--storage-options", "a JSON object", value, argparse.ArgumentTypeError)
    return value


def _open(args: argparse.Namespace, verify: bool = False) -> Recording:
    cache = None
    if not is_local(args.path):
        cache = {"cache_dir": args.cache_dir} if args.cache_dir else True
    return open_recording(args.path, verify=verify, cache=cache,
                          storage_options=_options(args.storage_options))


def describe(rec: Recording) -> dict[str, Any]:
    """Plain summary of a recording: state, damage and, per stream, extent and gaps."""
    streams = {}
    for name, s in rec.streams.items():
        tr = s.time_range
        gaps = s.gaps
        streams[name] = {
            "streamtype": s.streamtype, "dtype": str(s.dtype) if not s.dtype.names else
            [list(f) for f in s.dtype.descr], "shape": list(s.shape),
            "sample_rate": s.sample_rate, "units": s.units, "codec": s.codec,
            "first_index": s.first_index, "stop_index": s.stop_index, "length": len(s),
            "n_samples": s.n_samples, "records": s.n_records,
            "expected_stop": s.expected_stop,
            "time_range": list(tr) if tr else None,
            "duration_s": (tr[1] - tr[0]) if tr else 0.0,
            "gaps": len(gaps), "gap_samples": sum(b - a for a, b in gaps),
            "first_gaps": [list(g) for g in gaps[:5]], "time_model": s.time_model_summary(),
        }
    return {"url": rec.url, "uuid": rec.uuid, "committed": rec.committed, "intact": rec.intact,
            "writer": writer_state(rec),
            "state": rec.manifest.get("state"), "created": rec.manifest.get("created"),
            "blocks": rec.n_blocks, "torn_bytes": rec.torn_bytes,
            "damage": [{"segment": d.segment, "offset": d.offset, "reason": d.reason,
                        "lost": d.lost} for d in rec.damage],
            "metadata": rec.manifest.get("metadata", {}), "streams": streams}


def writer_state(rec: Recording) -> dict[str, Any]:
    """Who writes the recording: ``{'state': 'closed'}`` (committed), ``'being written'``
    (a live writer holds its lock: ``pid``, ``host``, ``last_write_s`` ago), ``'did not
    close'`` (crashed or killed), or ``'unknown'`` (a remote recording not committed)."""
    if rec.committed:
        return {"state": "closed"}
    if not is_local(rec.url):
        return {"state": "unknown"}
    root = local_path(rec.url)
    owner = lock_owner(root)
    if owner is None:
        return {"state": "did not close"}
    return {"state": "being written", **owner, "last_write_s": time.time() - _last_write(root)}


def _last_write(root: pathlib.Path) -> float:
    """The latest modification time of the recording's files (its segments, manifest, index)."""
    latest = 0.0
    for folder in (root, root / "segments"):
        try:
            with os.scandir(folder) as entries:
                latest = max([latest] + [e.stat().st_mtime for e in entries if e.is_file()])
        except OSError:
            pass
    return latest


def _state_text(info: dict[str, Any]) -> str:
    """'committed', 'being written (pid N on this host, last write 0.4 s ago)' or why not."""
    w = info.get("writer") or {}
    if info["committed"]:
        return "committed"
    if w.get("state") == "being written":
        host = w.get("host")
        who = ("a writer" if w.get("pid") is None else f"pid {w['pid']} on "
               + ("this host" if host == socket.gethostname() else f"host {host}"))
        return f"being written ({who}, last write {max(0.0, w['last_write_s']):.1f} s ago)"
    if w.get("state") == "did not close":
        return (f"NOT committed: writer did not close (crashed or killed; {info['blocks']} "
                f"sealed blocks readable)")
    return "NOT committed (its writer did not close, or is still writing it)"


def _print_info(info: dict[str, Any]) -> None:
    state = _state_text(info)
    print(f"{info['url']}  [{state}; {'intact' if info['intact'] else 'DAMAGED'}; "
          f"{info['blocks']} blocks]")
    if info["created"]:
        print(f"  created {_iso(info['created'])}")
    if info["torn_bytes"]:
        print(f"  torn tail: {info['torn_bytes']} bytes dropped")
    for d in info["damage"]:
        print(f"  damage: segment {d['segment']} @ {d['offset']}: {d['reason']}")
    for name, s in info["streams"].items():
        rate = "irregular (events)" if s["streamtype"] == "event" else f"at {s['sample_rate']:g} Hz"
        print(f"  {name}: {s['streamtype']} {s['dtype']} shape {tuple(s['shape'])} "
              f"{rate}" + (f", codec {s['codec']['name']}" if s["codec"] else ""))
        what = "events" if s["streamtype"] == "event" else "samples"
        print(f"    {what} [{s['first_index']}:{s['stop_index']}] ({s['n_samples']} stored, "
              f"{s['records']} chunks)")
        if s["time_range"]:
            (t0, t1), m = s["time_range"], s.get("time_model") or {}     # m: a 'clock:' line
            print(f"    time {_iso(t0)} .. {_iso(t1)} ({s['duration_s']:.3f} s)" + m.get("line", ""))
        if s["gaps"]:
            print(f"    gaps: {s['gaps']} ({s['gap_samples']} samples), first "
                  + ", ".join(f"[{a}:{b}]" for a, b in s["first_gaps"]))
        if s["expected_stop"] and s["expected_stop"] > s["stop_index"]:
            print(f"    lost at the end: [{s['stop_index']}:{s['expected_stop']}]")


def _cmd_info(args: argparse.Namespace) -> int:
    rec = _open(args)
    info = describe(rec)
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        _print_info(info)
    return 0 if info["intact"] else 1


def _time_notes(fmt: str, streams: list, args: argparse.Namespace, parts: Any) -> None:
    """One line on stderr per stream whose times are not one regular grid: what the
    export wrote instead of a fixed rate (timestamps, frame times, split files)."""
    from ..storage.timebase import timebase
    what = {"nwb": "per-sample timestamps", "h5": "a per-sample 'times' dataset",
            "mp4": "each frame at its stored time (variable frame rate)",
            "avi": "each frame at its stored time (variable frame rate)",
            "wav": f"{len(parts)} WAV files, one per regular segment"
            if isinstance(parts, list) else None}.get(fmt)
    for s in streams if what else ():
        tb = timebase(s, args.start, args.stop, args.time_tolerance, local=fmt != "h5",
                      times=args.times)
        if not s.dtype.names and not tb.regular and (fmt != "wav" or len(parts) > 1):
            print(f"note: {tb.summary()}: wrote {what}", file=sys.stderr)


def _cmd_export(args: argparse.Namespace) -> int:
    try:
        return _export(args)
    except FileExistsError as exc:     # the API's advice, in the CLI's words
        text = str(exc).replace("pass overwrite=True (CLI: --overwrite)", "use --overwrite")
        print(f"acqflow rec export: {text}", file=sys.stderr)
        return 1


def _export(args: argparse.Namespace) -> int:
    rec = _open(args)
    asked = args.format or args.out.rsplit(".", 1)[-1].lower()
    fmt = _ALIASES.get(asked, asked)
    if fmt not in FORMATS:
        print(f"acqflow rec export: unknown format {fmt!r}; use --format "
              f"{'|'.join(FORMATS)}", file=sys.stderr)
        return 2
    names = list(rec.streams) if args.stream in ("*", "all") else args.stream.split(",")
    if fmt == "xdf" and args.stream in ("*", "all"):
        from ..storage.export_xdf import xdf_streams
        left_out: list[str] = []
        names = [s.name for s in xdf_streams(rec.streams.values(), left_out)]
        for note in left_out:
            print("note: " + note.replace("; export it to ", "; export it with --out "),
                  file=sys.stderr)
    if len(names) > 1 and fmt not in ("h5", "nwb", "xdf"):
        print(f"acqflow rec export: {fmt} takes one stream, got {args.stream!r} "
              "(several streams: use .h5, .nwb or .xdf)", file=sys.stderr)
        return 2
    if args.metadata and fmt != "nwb":
        print("acqflow rec export: --metadata is for .nwb exports", file=sys.stderr)
        return 2
    streams = [rec[n] for n in names]
    stream = streams[0]
    progress = False if args.quiet else None
    fill = args.fill
    if fill not in (None, "auto"):
        fill = float(fill)
    tol, parts = args.time_tolerance, None
    if args.split and fmt != "wav":
        print("acqflow rec export: --split is for .wav exports (the other formats carry "
              "their times)", file=sys.stderr)
        return 2
    if fmt == "npy":
        to_npy(stream, args.out, args.start, args.stop, fill=fill, progress=progress,
               overwrite=args.overwrite)
    elif fmt == "csv":
        to_csv(stream, args.out, args.start, args.stop, progress=progress,
               overwrite=args.overwrite)
    elif fmt == "wav":
        wav = to_wav_parts if args.split else to_wav
        parts = wav(stream, args.out, args.start, args.stop, fill=0 if fill is None else fill,
                    full_scale=args.full_scale, progress=progress, tolerance=tol,
                    overwrite=args.overwrite, times=args.times)
    elif fmt in ("mp4", "avi"):          # compressed streams are remuxed unless --reencode
        from ..storage.export_remux import export_video_file
        export_video_file(stream, args.out, args.start, args.stop, reencode=args.reencode,
                          fourcc=args.fourcc, progress=progress, tolerance=tol,
                          overwrite=args.overwrite, times=args.times)
    elif fmt == "xdf":
        from ..storage.export_xdf import to_xdf
        dropped: dict[str, int] = {}
        to_xdf(streams, args.out, args.start, args.stop, progress=progress,
               nonfinite="drop" if args.drop_unstamped else "error", dropped=dropped,
               overwrite=args.overwrite, times=args.times)
        for name, n in dropped.items():
            print(f"acqflow rec export: {name!r}: {n} samples without a finite time stamp "
                  "left out (--drop-unstamped)", file=sys.stderr)
    elif fmt == "nwb":
        from ..storage.export_nwb import movie_path, to_nwb
        to_nwb(streams, args.out, args.start, args.stop, fill=fill, progress=progress,
               metadata=args.metadata, tolerance=tol, overwrite=args.overwrite,
               times=args.times)
    else:
        from ..storage.export_hdf5 import to_hdf5
        to_hdf5(streams, args.out, args.start, args.stop, fill=fill, progress=progress,
                compression=args.compression, tolerance=tol, overwrite=args.overwrite,
                times=args.times)
    _time_notes(fmt, streams, args, parts)
    if not args.quiet:
        label = asked if asked in _ALIASES and asked != "hdf5" else fmt
        print(f"wrote {args.out} ({label}, stream{'s' if len(names) > 1 else ''} "
              f"{', '.join(map(repr, names))})")
        for path, seg in parts[1:] if isinstance(parts, list) else ():
            assert seg is not None       # (None only for a stream of one part)
            print(f"wrote {path} (wav, samples [{seg.start}:{seg.stop}] from t={seg.t0!r})")
        if fmt == "nwb":
            out = pathlib.Path(args.out)
            for s in streams:
                if s.streamtype == "video":
                    print(f"wrote {movie_path(out, s)} (the frames of "
                          f"{s.name!r}, referenced by the NWB file: keep them together)")
    return 0


def _verify_blocks_only(args: argparse.Namespace, exc: DamagedManifestError) -> int:
    """A damaged manifest: say so, and what the blocks alone still show."""
    print(f"{args.path}: DAMAGED manifest: {exc}")
    try:
        layout = block_layout(args.path, _options(args.storage_options))
    except Exception as err:      # noqa: BLE001 - reported as what it is
        print(f"  blocks: not readable either ({err})")
        return 1
    for sid, s in layout.items():
        per = s["bytes_per_sample"]
        print(f"  blocks hold stream id {sid}: samples [{s['first']}:{s['stop']}] "
              f"({s['samples']} stored), {per if per is not None else 'varying'} bytes per sample")
    return 1


def _cmd_verify(args: argparse.Namespace) -> int:
    try:
        rec = _open(args, verify=True)
    except DamagedManifestError as exc:
        return _verify_blocks_only(args, exc)
    checked = 0
    for stream in rec.streams.values():   # every record's payload CRC, and decoding
        if len(stream):
            for _, data in stream.chunks():
                checked += len(data)
    info = describe(rec)
    ok = info["intact"]
    state = _state_text(info)
    print(f"{info['url']}: {'OK' if ok else 'DAMAGED'}, {state}, {info['blocks']} blocks, "
          f"{checked} samples checked" + (f", torn tail {info['torn_bytes']} bytes dropped"
                                          if info["torn_bytes"] else ""))
    for d in info["damage"]:
        print(f"  damage: segment {d['segment']} @ {d['offset']}: {d['reason']}"
              + (" (data lost)" if d["lost"] else ""))
    return 0 if ok else 1


def _cmd_upload(args: argparse.Namespace) -> int:
    from ..storage.backends import upload
    if not is_local(args.path):
        print(f"acqflow rec upload: {refusal('PATH', 'a local recording', args.path)}", file=sys.stderr)
        return 2
    open_recording(args.path).close()     # refuses what is not a recording
    upload(args.path, args.url, _options(args.storage_options))
    print(f"uploaded {args.path} -> {args.url}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    if args.file.lower().endswith((".xdf", ".xdfz", ".xdf.gz")):
        from ..storage.import_xdf import from_xdf
        dest = from_xdf(args.file, args.dir, label_size=args.label_size)
        rec = open_recording(dest)
        names = [n for n, s in rec.streams.items()
                 if not (s.entry.get("metadata") or {}).get("lsl_timestamps_of")]
        report = rec.manifest.get("metadata", {}).get("xdf_import") or {}
        damaged = (f"; damaged/truncated file: {report['chunks_dropped']} chunks dropped, "
                   f"{report['bytes_ignored']} bytes ignored"
                   if report.get("chunks_dropped") or report.get("bytes_ignored") else "")
        print(f"imported {args.file} -> {dest} ({len(names)} streams: {', '.join(names)}"
              f"{damaged})")
        return 0
    from ..storage.external import import_media
    dest = import_media(args.file, args.dir, name=args.name, start_time=args.start_time)
    rec = open_recording(dest)
    for name, s in rec.streams.items():
        print(f"imported {args.file} -> {dest} (stream {name!r}: {s.streamtype} {s.dtype} "
              f"shape {s.shape} at {s.sample_rate:g} Hz, {len(s)} samples; not copied)")
    return 0


def _cmd_align(args: argparse.Namespace) -> int:
    return rec_align.run(_open(args), args)


def _cmd_cache(args: argparse.Namespace) -> int:
    from ..storage.cache import default_cache
    from ..storage.cacheconfig import load_cache_config
    config = load_cache_config()
    cache = default_cache(config)
    if cache is None:
        print(f"local cache disabled (size -1, from {config.source})")
        return 0
    if args.action == "clear":
        cache.clear()
    st = cache.stats()
    print(f"{st.cache_dir}: {st.entries} entries, {st.current_size} / "
          f"{st.max_bytes} bytes (load factor {st.load_factor:.3f}; settings from "
          f"{config.source})")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="acqflow rec",
                                     description="inspect, export, verify and upload recordings")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, text: str, func: Callable[[argparse.Namespace], Any]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(func=func)
        p.add_argument("path", metavar="PATH" if name == "upload" else "PATH|URL")
        p.add_argument("--storage-options", metavar="JSON",
                       help="fsspec options, e.g. '{\"anon\": true}'")
        p.add_argument("--cache-dir", help="local cache of remote reads")
        p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
        return p

    p = add("info", "streams, lengths, time range, gaps, committed/damage", _cmd_info)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = add("export", "write a stream to .npy, .csv, .wav, .mkv/.mp4/.avi (video), .h5 (HDF5), "
            ".nwb (NWB) or .xdf (XDF)",
            _cmd_export)
    p.add_argument("stream", help="stream name; for .h5, .nwb and .xdf also 'a,b' or 'all'")
    p.add_argument("--format", choices=FORMATS + tuple(_ALIASES),
                   help="default: from --out's suffix")
    p.add_argument("--out", required=True)
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out file (default: refuse it)")
    p.add_argument("--start", type=int)
    p.add_argument("--stop", type=int)
    p.add_argument("--fill", help="value for gaps ('auto': NaN for floats, 0 for integers); "
                   "npy refuses a range with gaps unless --fill is given")
    p.add_argument("--full-scale", type=float, default=1.0, help="wav: float value of full scale")
    p.add_argument("--split", action="store_true", help="wav: where the times step off the "
                   "grid (a pause), write one file per segment: OUT, OUT.part2.wav, ...")
    p.add_argument("--time-tolerance", type=float, metavar="S", help="how far stamps may stray "
                   "from a regular grid before the export writes explicit times (default: "
                   "the larger of half a sample period and 10 ms)")
    p.add_argument("--times", choices=("stamps", "model"), help="sample times from each "
                   "stream's fitted time model ('model'; default for streams the Recorder "
                   "stored one for) or its raw chunk 'stamps'")
    p.add_argument("--fourcc", help="mp4/mkv/avi: re-encode with this codec (default mp4v / "
                   "FFV1 / MJPG; avc1 H.264; FFV1 and 'png ' lossless)")
    p.add_argument("--reencode", action="store_true", help="mkv/mp4: re-encode a stream "
                   "stored as h264/hevc/ffv1 packets (default: copy its packets)")
    p.add_argument("--compression", help="h5: dataset compression, e.g. gzip")
    p.add_argument("--drop-unstamped", action="store_true", help="xdf: leave out (and count) "
                   "samples without a finite time stamp instead of refusing the export")
    p.add_argument("--metadata", metavar="YAML", help="nwb: session, subject, device and "
                   "electrode metadata (docs/recording.md#nwb-metadata)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary")
    add("verify", "CRC-check every block and record; exit 1 on damage", _cmd_verify)
    rec_align.add_arguments(add("align", rec_align.HELP, _cmd_align))
    p = add("upload", "copy a local recording to an fsspec URL (manifest last)", _cmd_upload)
    p.add_argument("url")
    p = sub.add_parser("import", help="make a recording indexing a WAV or video file "
                       "(samples not copied), or from an XDF file (copied)",
                       description="make recording DIR from FILE: WAV/video without copying "
                       "its samples (FILE must stay in place, unchanged); .xdf: every stream")
    p.set_defaults(func=_cmd_import)
    p.add_argument("file", metavar="FILE")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--name", help="stream name (default: audio or video)")
    p.add_argument("--start-time", type=float, default=None,
                   help="time of the first sample, Unix seconds (default: the file's "
                        "modification time minus its duration)")
    p.add_argument("--label-size", type=int, default=None, metavar="BYTES",
                   help="xdf: bytes per marker label (default: the longest; longer labels "
                        "are cut at a character boundary)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    p = sub.add_parser("cache", help="local cache of remote reads: stats or clear",
                       description="stats or clear the default local cache "
                       "(ACQFLOW_CACHE_DIR, ACQFLOW_CACHE_SIZE_BYTES, ACQFLOW_CONFIG)")
    p.set_defaults(func=_cmd_cache)
    p.add_argument("action", choices=("stats", "clear"), nargs="?", default="stats")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``acqflow rec ...``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["rec"]:
        argv = argv[1:]
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:       # argparse exits on --help (0) and usage errors (2)
        return int(exc.code or 0)
    try:
        return args.func(args)
    except argparse.ArgumentTypeError as exc:
        print(f"acqflow rec {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:         # stdout's reader went away (`| head`): acqflow's main says
        raise                       # nothing, as Python's docs advise
    except (StorageError, KeyError, GapError, ValueError, IndexError, FileNotFoundError,
            OSError, ImportError) as exc:
        if getattr(args, "debug", False):
            raise
        print(f"acqflow rec {args.command}: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:     # noqa: BLE001 - e.g. botocore's, from a remote URL
        if getattr(args, "debug", False):
            raise
        hint = ""
        path = getattr(args, "path", None) or getattr(args, "url", None)
        if path and not is_local(path) and not getattr(args, "storage_options", None):
            hint = (" (a remote URL: give --storage-options, e.g. '{\"anon\": true}' or "
                    "'{\"client_kwargs\": {\"endpoint_url\": \"http://host:9000\"}}')")
        print(f"acqflow rec {args.command}: {type(exc).__name__}: {_one_line(exc)}{hint}",
              file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    """The first line of an error, at most 300 characters (--debug shows everything)."""
    lines = str(exc).strip().splitlines()
    text = (lines[0] if lines else type(exc).__name__)
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        text = exc.args[0]
    return text if len(text) <= 300 else text[:297] + "..."


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
