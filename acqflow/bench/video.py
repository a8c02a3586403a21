"""`acqflow bench video`: video into a Recorder per codec, beside PyAV alone and OpenCV.

For each codec (``--codecs``: raw, png, jpg and the compressed ones, h264, hevc, ffv1,
where the Recorder has them) ``--cameras`` source processes each send ``--seconds`` (or
``--minutes``) of 30 fps frames (``--size`` 720p, 1080p or WxH; ``--scene``) over tcp
(``backpressure='block'``) into one Recorder in this process, as fast as it takes them or
paced (``--rate``).  Per codec: frames/s stored (first frame to the recording closed; a
full queue drops frames, counted), CPU per frame of the whole recording process and of the
encoder alone (its thread and its frame copies), cores used, bytes per frame on disk, PSNR
against the source, the median of ``--reads`` random ``stream[i]`` reads (best of 3; the
default decoder, 2 threads on 2 cores, and compressed streams on one thread too), and frames/s read
in a row.  Then the same frames through PyAV alone (the h264 row's settings, one thread)
and OpenCV's VideoWriter (mp4v), and the h264 row's ratios to PyAV alone.  A codec this
build's Recorder does not have gets a row saying so, with the Recorder's own error.
``--export-hour`` times the remux export of one hour of 30 fps instead
(:mod:`.videoexport`).
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..dataflow.paramcheck import refusal
from ..storage.videocodec import is_packet_codec
from . import harness
from .videoref import (CODEC_SPECS, FPS, SCENES, opencv_writer, parse_size, psnr, pyav_alone,
                       source_frames, timed)

__all__ = ["main", "bench_codec", "CODEC_SPECS"]

NOT_AVAILABLE = "codec not available in this build"
REPLAY_MAX_S = 60          # longer paced runs are not replayed (it takes as long again)
READ_IN_A_ROW = 600        # frames read in a row per codec (of the first camera)


def _child() -> None:
    """Source process: frames from a JSON config; print params, wait for 'go', send, close."""
    from ..dataflow import OutputStream
    cfg = json.loads(sys.stdin.readline())
    frames = source_frames(cfg["w"], cfg["h"], cfg["distinct"], scene=cfg["scene"])
    out = OutputStream(name="cam")
    out.configure(protocol="tcp", streamtype="video", dtype="uint8", shape=(-1, cfg["h"], cfg["w"], 3),
                  sample_rate=float(FPS), backpressure="block")
    print(json.dumps(out.params), flush=True)
    sys.stdin.readline()
    t0 = time.perf_counter()
    for k in range(cfg["n"]):
        if cfg.get("rate"):          # a camera's pace; late frames go out back to back
            time.sleep(max(0.0, t0 + k / cfg["rate"] - time.perf_counter()))
        out.send(frames[k % len(frames)][np.newaxis])
    out.close()
    print("done", flush=True)


def _dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def replay(path: Path, stream: str = "cam") -> dict[str, Any]:
    """Replay ``stream`` of the recording at ``path`` at its original timing (Player, rate 1)
    to a reader taking every frame: wall time against the recorded span."""
    from ..dataflow import InputStream
    from ..devices.player import Player
    player = Player(name="replay")
    player.configure(url=str(path), streams=[stream])
    player.outputs[stream].configure(protocol="inproc", backpressure="block")
    player.initialize()
    inp = InputStream()
    inp.connect(player.outputs[stream])
    got = [0]

    def take() -> None:
        while not player.ended.is_set() or inp.poll(0):
            if inp.poll(100):
                got[0] += len(inp.recv(return_data=True)[1])
    reader = threading.Thread(target=take, name="replay reader", daemon=True)
    reader.start()
    span = player.end_time - player.start_time
    t0 = time.perf_counter()
    player.start()
    player.wait_end()
    wall = time.perf_counter() - t0
    reader.join(30)
    player.close()
    inp.close()
    return {"replay_s": wall, "recorded_s": span, "replayed": got[0],
            "replay_ratio": wall / span if span > 0 else None}


@contextlib.contextmanager
def _decode_threads(n: int | None) -> Iterator[None]:
    """Readers opened inside decode compressed video on ``n`` threads (None: the default)."""
    key = "ACQFLOW_VIDEO_DECODE_THREADS"
    before = os.environ.pop(key, None)
    if n is not None:
        os.environ[key] = str(n)
    try:
        yield
    finally:
        os.environ.pop(key, None)
        if before is not None:
            os.environ[key] = before


def _random_reads(path: Path, name: str, kept: list[int], packets: bool) -> dict[str, Any]:
    """Median ms of ``stream[i]`` for ``i`` in ``kept``, each time through a new reader,
    best of 3 rounds; compressed streams alternate the default decoder (2 threads on 2
    cores) with a one-thread one, so that both see the same machine."""
    from ..storage import open_recording
    if not kept:
        return {}
    best: dict[str, float] = {}
    for _ in range(3):
        for key, threads in (("random_ms_median", None), ("random1_ms_median", 1))[:1 + packets]:
            with _decode_threads(threads):
                recording = open_recording(path)
                stream = recording[name]
                median = statistics.median(timed(lambda: stream[i])[1] for i in kept)
                recording.close()
            best[key] = min(best.get(key, median), median)
    return best


def bench_codec(name: str, frames: np.ndarray, n: int, reads: list[int],
                dirname: str | None = None, rate: float | None = None, cameras: int = 1,
                scene: str = "pattern") -> dict[str, Any]:
    """Record ``n`` frames (``frames`` cycled, made for ``scene``) from each of ``cameras``
    source processes (at ``rate`` frames/s, or as fast as taken) with codec ``name`` (see
    CODEC_SPECS) into one Recorder; frames/s, CPU per frame (process, encoder), cores,
    bytes per frame, PSNR, random and in-a-row reads (of the first camera)."""
    from ..nodes.recorder import Recorder
    from ..storage import open_recording
    h, w = frames.shape[1:3]
    tmp = Path(tempfile.mkdtemp(prefix="acqflow-videobench-", dir=dirname))   # only ours is removed
    path = tmp / "rec"
    names = ["cam"] if cameras == 1 else [f"cam{c}" for c in range(cameras)]
    row: dict[str, Any] = {"codec": name if cameras == 1 else f"{name} x{cameras}", "frames": n * cameras}
    procs: list[Any] = []
    rec = Recorder(name="rec")
    try:
        params = []
        for _ in names:
            proc, p = harness.spawn_source("acqflow.bench.video", {"w": w, "h": h, "n": n, "scene": scene,
                                                                 "distinct": len(frames), "rate": rate})
            procs.append(proc)
            params.append(p)
        node_log = logging.getLogger("acqflow.dataflow.graph.node")
        level = node_log.level
        node_log.setLevel(logging.CRITICAL)     # the row says it, once
        try:
            rec.configure(streams=names, dirname=path,
                          codecs={cam: CODEC_SPECS.get(name, name) for cam in names})
            for cam, p in zip(names, params):
                rec.inputs[cam].connect(p)
            rec.initialize()
        except (ValueError, ImportError) as exc:
            row["error"] = f"{NOT_AVAILABLE}: {exc}"
            return row
        finally:
            node_log.setLevel(level)
        wall, cpu = harness.record_sources(rec, names, procs)
        writer = rec.stats().writer
        for proc in procs:
            proc.wait(30)
        recording = open_recording(path)
        stored = sum(recording[cam].n_samples for cam in names)
        enc = [writer.streams[cam] for cam in names] if writer is not None else []
        encoded = sum(e.frames_encoded for e in enc)
        row.update(stored=stored, dropped=n * cameras - stored, overflows=writer.overflows if writer else 0,
                   fps=stored / wall, cpu_ms_per_frame=cpu / max(stored, 1) * 1e3, cores=cpu / wall,
                   bytes_per_frame=_dir_bytes(path) / max(stored, 1),
                   slowdowns=sum(e.slowdowns for e in enc) or None)
        if encoded and name != "hevc":     # x265 encodes on its own thread pool, not counted there
            row["enc_cpu_ms_per_frame"] = sum(e.encoder_cpu_s for e in enc) / encoded * 1e3
        stream = recording[names[0]]
        kept = [i for i in reads if i < stream.stop_index and not stream.gaps_in(i, i + 1)]
        got = [(stream[i], 0.0) for i in kept]       # a first pass, untimed: warm
        pairs = [(data[0] if data.ndim == 4 else data, frames[i % len(frames)])
                 for (data, _), i in zip(got, kept)]
        row["psnr"] = psnr(pairs) if pairs else None
        recording.close()
        row.update(_random_reads(path, names[0], kept, is_packet_codec(stream.codec)))
        recording = open_recording(path)                 # a new reader: nothing cached
        stream = recording[names[0]]
        last = min(stream.stop_index, READ_IN_A_ROW)
        count, ms = timed(lambda: sum(len(d) for _, d in stream.chunks(0, last)))
        row["read_fps"] = count / ms * 1e3 if ms > 0 else None
        recording.close()
        if rate and n / FPS <= REPLAY_MAX_S:    # recorded at a camera's pace: replayed at it
            row.update(replay(path, names[0]))
        return row
    finally:
        if rec.state not in ("closed", "new"):
            rec.close()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


COLUMNS = [("codec", "codec", "{}", 13), ("fps", "frames/s", "{:.1f}"),
           ("cpu_ms_per_frame", "CPU ms/frame", "{:.1f}"),
           ("enc_cpu_ms_per_frame", "enc CPU ms/frame", "{:.2f}"), ("cores", "cores", "{:.2f}"),
           ("bytes_per_frame", "bytes/frame", "{:.0f}", 11),
           ("psnr", "PSNR dB", "{:.1f}"), ("random_ms_median", "random ms", "{:.1f}"),
           ("random1_ms_median", "random ms 1 thr", "{:.1f}"),
           ("read_fps", "read frames/s", "{:.0f}"), ("dropped", "dropped", "{}"),
           ("replay_ratio", "replay/recorded", "{:.2f}")]


def compare(rows: list[dict[str, Any]]) -> list[str]:
    """Lines saying the h264 rows' bytes and encoder CPU per frame against PyAV alone's (the
    same frames and settings): the encode overhead is the Recorder's encoder thread and its
    frame copies against PyAV's one thread."""
    ref = next((r for r in rows if r["codec"] == "pyav libx264" and "error" not in r), None)
    out = []
    for row in rows:
        if ref is None or not row["codec"].startswith("h264") or "error" in row:
            continue
        line = f"{row['codec']} / pyav libx264 (same frames, pace, crf 23, GOP 30, ultrafast, 1 thread): " \
               f"bytes per frame x{row['bytes_per_frame'] / ref['bytes_per_frame']:.2f}"
        if row.get("enc_cpu_ms_per_frame"):
            over = row["enc_cpu_ms_per_frame"] / ref["enc_cpu_ms_per_frame"] - 1
            line += (f", encoder CPU {row['enc_cpu_ms_per_frame']:.2f} against "
                     f"{ref['enc_cpu_ms_per_frame']:.2f} ms/frame ({over:+.0%} overhead)")
        out.append(line)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--child"]:
        _child()
        return 0
    parser = harness.parser("video", __doc__)
    parser.add_argument("--size", default="720p", help="720p, 1080p or WxH (default 720p)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of 30 fps video per codec")
    parser.add_argument("--minutes", type=float, help="minutes of video per codec (a sustained run; "
                                                      "overrides --seconds)")
    parser.add_argument("--codecs", default=",".join(CODEC_SPECS),
                        help=f"comma list (default {','.join(CODEC_SPECS)})")
    parser.add_argument("--cameras", type=int, default=1, help="cameras (source processes) into one "
                                                               "Recorder, one stream each (default 1)")
    parser.add_argument("--scene", default="pattern", choices=SCENES,
                        help="pattern: sharp stripes moving 8 px/frame + noise on every pixel (default); "
                             "smooth: a smooth gradient moving 2-4 px/frame + mild noise")
    parser.add_argument("--reads", type=int, default=30, help="random frame reads per codec")
    parser.add_argument("--rate", type=float, help="pace each source at this many frames/s, as a "
                                                   "camera (default: as fast as the Recorder takes them)")
    parser.add_argument("--no-references", action="store_true", help="skip PyAV alone and OpenCV")
    parser.add_argument("--export-hour", action="store_true",
                        help="instead: store one hour of 30 fps h264 packets, time its remux export")
    parser.add_argument("--dir", help="where to write (default: a temporary directory)")
    args = parser.parse_args(argv)
    try:
        w, h = parse_size(args.size)
    except ValueError as exc:
        parser.error(str(exc))
    seconds = args.minutes * 60 if args.minutes is not None else args.seconds
    codecs = [c.strip() for c in args.codecs.split(",") if c.strip()]
    for key, value, ok, what in (("--seconds", args.seconds, args.seconds > 0, "> 0"),
                                 ("--minutes", args.minutes, args.minutes is None or args.minutes > 0, "> 0"),
                                 ("--cameras", args.cameras, 1 <= args.cameras <= 8, "in 1..8"),
                                 ("--rate", args.rate, args.rate is None or args.rate > 0, "> 0"),
                                 ("--reads", args.reads, args.reads >= 0, ">= 0"),
                                 ("--codecs", args.codecs, bool(codecs), "a non-empty list")):
        if not ok:
            parser.error(refusal(key, what, value))
    if args.export_hour:
        from .videoexport import export_hour
        return export_hour(w, h, args.scene, args.dir, args.json)
    n = max(2, int(round(seconds * FPS)))
    frames = source_frames(w, h, scene=args.scene)
    reads = [int(i) for i in np.random.default_rng(1).integers(0, n, args.reads)]
    cams = f"{args.cameras} cameras, " if args.cameras > 1 else ""
    print(f"video {w}x{h} BGR, {cams}{n} frames each ({seconds:g} s at {FPS} fps; scene {args.scene}), "
          f"{args.reads} random reads; source {f'paced at {args.rate:g} fps' if args.rate else 'unpaced'}"
          f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores:")
    table = harness.Table(COLUMNS)
    table.print_header()
    results = []
    for name in codecs:
        row = bench_codec(name, frames, n, reads, dirname=args.dir, rate=args.rate,
                          cameras=args.cameras, scene=args.scene)
        results.append(row)
        table.print_row(row) if "error" not in row else print(f"{name:>13} {row['error']}")
    if not args.no_references:
        tmp = Path(tempfile.mkdtemp(prefix="acqflow-videobench-", dir=args.dir))
        try:
            for ref, file, label in ((pyav_alone, "pyav.mkv", "pyav libx264"),
                                     (opencv_writer, "opencv.mp4", "opencv mp4v")):
                try:
                    row = ref(frames, n, str(tmp / file), reads, *([args.rate] if ref is pyav_alone else []))
                except ImportError as exc:
                    row = {"codec": label, "error": f"not installed: {exc}"}
                results.append(row)
                table.print_row(row) if "error" not in row else print(f"{row['codec']:>13} {row['error']}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    for line in compare(results):
        print(line)
    if args.rate and n / FPS > REPLAY_MAX_S:
        print(f"(runs over {REPLAY_MAX_S} s are not replayed)")
    harness.write_json(args.json, results, size=[w, h], frames=n, reads=args.reads, rate=args.rate,
                       cameras=args.cameras, scene=args.scene)
    return 0


if __name__ == "__main__":
    sys.exit(main())
