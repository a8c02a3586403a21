"""Device clocks aligned by a shared sync line: every stream's index fitted to one common clock.

Two or more streams record the same sync signal (a TTL pulse train at irregular
intervals, or barcodes) on a channel each (a *line*: ``STREAM:CHANNEL``, or
``STREAM:CHANNEL:BIT`` for a bit of a digital channel; CHANNEL is an index, a channel
name, or ``mean`` for a video stream's frame brightness).  :func:`align` finds the edges
of each line, matches them to the reference line's, and fits per stream
``time(index) = a + b * index`` (robust least squares over the matched edges).

**The common clock** is the reference stream's (the first line's unless named): its
sample index mapped to the recorder's clock by a robust linear fit of its stored chunk
stamps over the whole recording.  Every aligned stream's times are on it, so samples
of several devices taken at the same moment get the same time, and stay comparable
(to the reference's stamp accuracy) with unaligned streams on the recorder's clock.

:func:`store` writes each stream's fit into its manifest entry (``alignment``); readers
(``StoredStream.common_times``, :mod:`.align_model`), ``Recording.merge`` and every export
(:mod:`.timebase`) then use it.  ``acqflow rec align`` runs both.
"""
from __future__ import annotations

import math
import os
import time
from typing import Any, Iterable, Iterator

import numpy as np

from .align_edges import (AmbiguousPulses, Edges, EdgeScanner, decode_barcodes, levels,
                          match_pulses, robust_line)
from .align_model import alignment_of, common_index, common_times, model_times, piece_times
from .backends import LocalBackend, lock_writer
from .errors import StorageError
from .manifest import dumps
from .streamdata import StreamData
from .timebase import default_tolerance

__all__ = ["SyncError", "parse_line", "line_edges", "align", "same_clock", "store",
           "align_recording",
           "alignment_of", "common_times", "common_index", "model_times", "piece_times"]

MIN_MATCHED = 4        # matched edges below which a stream is not aligned


class SyncError(StorageError, ValueError):
    """A sync line is missing, flat, or does not match the reference line."""


def parse_line(text: str) -> tuple[str, str, int | None]:
    """``STREAM:CHANNEL[:BIT]`` -> ``(stream, channel, bit)``; ValueError naming ``text``."""
    parts = str(text).rsplit(":", 2) if str(text).count(":") >= 2 else str(text).split(":")
    if len(parts) == 3 and not parts[2].isdigit():       # a ':' inside the stream name
        parts = [f"{parts[0]}:{parts[1]}", parts[2]]
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise ValueError(f"sync line {text!r} is not STREAM:CHANNEL or STREAM:CHANNEL:BIT")
    return parts[0], parts[1], int(parts[2]) if len(parts) == 3 else None


def _channel(stream: StreamData, channel: str) -> int | None:
    """Column index of ``channel`` (None: the frame mean of a video stream)."""
    if len(stream.shape) > 2:
        if channel != "mean":
            raise SyncError(f"stream {stream.name!r} has frames of shape {stream.shape[1:]}: "
                            f"its sync line is its frame brightness, channel 'mean' "
                            f"(got {channel!r})")
        return None
    n = 1 if len(stream.shape) == 1 else stream.shape[1]
    names = [c.get("name") if isinstance(c, dict) else None for c in stream.channel_info or []]
    if channel in names:
        return names.index(channel)
    if channel.isdigit() and int(channel) < n:
        return int(channel)
    raise SyncError(f"stream {stream.name!r} has no channel {channel!r} (channels 0..{n - 1}"
                    + (f", names {[x for x in names if x]}" if any(names) else "") + ")")


def _values(data: np.ndarray, col: int | None, bit: int | None, digital: bool) -> np.ndarray:
    """A chunk's line values: int8 levels (digital) or float32."""
    if col is None:
        v = data.reshape(len(data), -1).mean(axis=1)
    else:
        v = data if data.ndim == 1 else data[:, col]
    if bit is not None:
        return ((v.astype(np.int64) >> bit) & 1).astype(np.int8)
    return (v != 0).astype(np.int8) if digital else v.astype(np.float32)


def _blocks(stream: StreamData, col: int | None, bit: int | None, digital: bool,
            block: int = 1 << 21) -> Iterator[tuple[int, np.ndarray]]:
    """The line's values as ``(start, values)`` runs of contiguous stored samples, about
    ``block`` samples each (bounded memory)."""
    run: list[np.ndarray] = []
    first = end = 0
    for s, data in stream.chunks():
        if run and (s != end or end - first >= block):
            yield first, np.concatenate(run)
            run = []
        if not run:
            first = s
        run.append(_values(data, col, bit, digital))
        end = s + len(data)
    if run:
        yield first, np.concatenate(run)


def _sample(stream: StreamData, col: int | None, n: int = 2000) -> np.ndarray:
    """Values of the line in ``n`` stored chunks spread over the stream (its levels)."""
    t = stream.record_table()
    ks = np.unique(np.linspace(0, len(t["start"]) - 1, min(n, len(t["start"]))).astype(int))
    parts = [_values(d, col, None, False) for k in ks
             for _, d in stream.chunks(int(t["start"][k]), int(t["stop"][k]))]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def line_edges(stream: StreamData, channel: str, bit: int | None = None) -> Edges:
    """Edges of a stream's sync line (absolute fractional sample indexes); SyncError
    naming the stream and channel when it has none."""
    if stream.streamtype in ("event",) or stream.dtype.names:
        raise SyncError(f"stream {stream.name!r} is a {stream.streamtype} stream of "
                        f"records; a sync line is a channel of a sampled stream")
    if bit is not None and stream.dtype.kind not in "iub":
        raise SyncError(f"stream {stream.name!r} channel {channel!r}: bit {bit} of a "
                        f"{stream.dtype} channel (bits are for integer channels)")
    where = f"stream {stream.name!r} channel {channel!r}" + (
        f" bit {bit}" if bit is not None else "")
    if bit is not None and bit >= 8 * stream.dtype.itemsize:
        raise SyncError(f"{where}: a {stream.dtype} channel has bits "
                        f"0..{8 * stream.dtype.itemsize - 1}")
    col = _channel(stream, channel)
    digital = bit is not None or stream.streamtype == "digitalsignal"
    level = None if digital else levels(_sample(stream, col))
    edges = Edges(np.zeros(0), np.zeros(0))
    if digital or level is not None:
        scan = EdgeScanner(level)
        for start, values in _blocks(stream, col, bit, digital):
            scan.push(start, values)
        edges = scan.edges()
    if len(edges.rising) < 2:
        raise SyncError(f"{where}: no sync pulses found ({len(edges.rising)} rising edges in "
                        f"{len(stream)} samples; is it the sync line?)")
    return edges


def _pieces(stream: StreamData) -> list[tuple[int, int, slice]]:
    """Runs of the stream on one clock, ``(start, stop, rows of its record table)``: split
    where the grid origin its stamps imply steps (a pause of the source, a clock reset) by
    more than the larger of :func:`.timebase.default_tolerance` and 8 SDs of the stamps'
    jitter (a running median of 9 chunks keeps single late chunks from splitting it)."""
    t = stream.record_table()
    n = len(t["t"])
    if n < 2:
        raise SyncError(f"stream {stream.name!r}: too few stored chunks ({n}) to fit its clock")
    origin = (np.asarray(stream.to_recorder_clock(np.asarray(t["t"], float)), float)
              - (np.asarray(t["stop"], float) - 1) / stream.sample_rate)
    smooth = origin
    if n >= 9:
        padded = np.concatenate([np.full(4, origin[0]), origin, np.full(4, origin[-1])])
        smooth = np.median(np.lib.stride_tricks.sliding_window_view(padded, 9), axis=1)
    raw = np.diff(origin)
    sd = 1.4826 * float(np.median(np.abs(raw - np.median(raw)))) / math.sqrt(2)
    cuts = np.nonzero(np.abs(np.diff(smooth)) > max(default_tolerance(stream.sample_rate),
                                                     8 * sd))[0] + 1
    rows = np.r_[0, cuts, n]
    bounds = np.r_[stream.first_index, np.asarray(t["start"])[cuts], stream.stop_index]
    return [(int(bounds[k]), int(bounds[k + 1]), slice(int(rows[k]), int(rows[k + 1])))
            for k in range(len(rows) - 1)]


def _stamp_fit(stream: StreamData) -> tuple[list[list[float]], np.ndarray]:
    """Pieces ``[start, stop, a, b]`` of the recorder-clock time ``a + b * i`` of the
    stream's samples, robust fits of its chunk stamps (each the time of its chunk's last
    sample) between clock steps, and the residuals."""
    t = stream.record_table()
    x = np.asarray(t["stop"], float) - 1
    y = np.asarray(stream.to_recorder_clock(np.asarray(t["t"], float)), float)
    pieces, res = [], []
    for start, stop, rows in _pieces(stream):
        xs, ys = x[rows], y[rows]
        if len(xs) >= 3:
            a, b, keep = robust_line(xs, ys)
        else:       # a piece of one or two chunks: the nominal rate
            b = 1.0 / stream.sample_rate
            a, keep = float(np.median(ys - b * xs)), np.ones(len(xs), bool)
        pieces.append([start, stop, a, b])
        res.append((ys - (a + b * xs))[keep])
    return pieces, np.concatenate(res)


def _stats(res: np.ndarray) -> dict[str, float]:
    r = np.abs(res)
    return {"residual_p50": float(np.percentile(r, 50)) if len(r) else math.nan,
            "residual_p99": float(np.percentile(r, 99)) if len(r) else math.nan}


def align(streams: dict[str, StreamData], lines: Iterable[str], reference: str | None = None,
          barcodes: bool = False, bit_s: float = 0.03, nbits: int = 32
          ) -> dict[str, dict[str, Any]]:
    """Fit each line's stream to the common clock (module doc); ``{stream: alignment}``.

    ``lines``: ``STREAM:CHANNEL[:BIT]``, one per stream, two or more.  ``reference``: the
    stream whose clock is the common clock (default: the first line's).  ``barcodes``:
    the lines carry barcodes (:func:`.align_edges.decode_barcodes`, ``bit_s`` s per bit,
    ``nbits`` bits) and are matched by value; else by inter-pulse intervals.  A stream
    whose stamps step (a pause, a clock reset) gets one linear piece per run between
    steps, each fitted to its own pulses."""
    parsed = [parse_line(x) for x in lines]
    names = [p[0] for p in parsed]
    if len(parsed) < 2:
        raise ValueError(f"aligning needs sync lines of two or more streams, got {list(lines)}")
    if len(set(names)) != len(names):
        raise ValueError(f"one sync line per stream, got {names}")
    for n in names:
        if n not in streams:
            raise KeyError(f"no stream {n!r} in the recording (streams: {sorted(streams)})")
    reference = names[0] if reference is None else reference
    if reference not in names:
        raise ValueError(f"reference {reference!r} has no sync line (lines: {names})")
    text = {p[0]: ":".join(str(v) for v in p if v is not None) for p in parsed}
    edges = {n: line_edges(streams[n], ch, bit) for n, ch, bit in parsed}
    ref = streams[reference]
    rpieces, rres = _stamp_fit(ref)
    marks = _marks(ref, edges[reference], barcodes, bit_s, nbits)
    rtimes = piece_times(rpieces, marks[0])        # reference marks on the common clock
    out: dict[str, dict[str, Any]] = {}
    when = time.time()
    for n in names:
        s, e = streams[n], edges[n]
        entry: dict[str, Any] = {
            "reference": reference, "line": text[n], "method": "barcodes" if barcodes
            else "pulses", "clock": "reference stream's stamps, robust linear fit "
            "(recorder clock)", "pulses": int(len(e.rising)), "created": when}
        if n == reference:
            pieces, matched, res = rpieces, len(e.rising), rres
        else:
            why = (f"stream {n!r} line {text[n]!r} does not match reference {reference!r} "
                   f"line {text[reference]!r}")
            pieces, matched, res = _fit(s, _marks(s, e, barcodes, bit_s, nbits), marks,
                                        rtimes, ref.sample_rate, why)
        longest = max(pieces, key=lambda p: p[1] - p[0])
        entry.update(a=longest[2], b=longest[3], pieces=pieces, matched=int(matched),
                     **_stats(res))
        entry["rate"] = 1.0 / entry["b"]
        ref_b = max(rpieces, key=lambda p: p[1] - p[0])[3]
        entry["drift_ppm"] = ((entry["rate"] / s.sample_rate)
                              / ((1.0 / ref_b) / ref.sample_rate) - 1.0) * 1e6
        out[n] = entry
    return out


def same_clock(streams: dict[str, StreamData], result: dict[str, dict[str, Any]],
               pairs: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Give streams without a sync line the fit of one with it on the same sample clock
    (``STREAM=LINESTREAM``: the same device, the same index for the same sample, the same
    rate), e.g. an amplifier's signals beside its digital inputs; returns ``result``."""
    for text in pairs:
        name, _, via = str(text).partition("=")
        if not name or not via:
            raise ValueError(f"same clock {text!r} is not STREAM=LINESTREAM")
        if name not in streams:
            raise KeyError(f"no stream {name!r} in the recording (streams: {sorted(streams)})")
        if via not in result:
            raise ValueError(f"same clock {text!r}: {via!r} has no sync line (lines: "
                             f"{sorted(result)})")
        if name in result:
            raise ValueError(f"same clock {text!r}: {name!r} has a sync line of its own")
        if streams[name].sample_rate != streams[via].sample_rate:
            raise ValueError(f"same clock {text!r}: {name!r} runs at "
                             f"{streams[name].sample_rate:g} Hz, {via!r} at "
                             f"{streams[via].sample_rate:g} Hz (one sample clock, one rate)")
        result[name] = dict(result[via], line=None, same_clock_as=via)
    return result


def _marks(s: StreamData, e: Edges, barcodes: bool, bit_s: float, nbits: int
           ) -> tuple[np.ndarray, np.ndarray | None]:
    """``(positions, barcode values or None)`` of a line's sync marks."""
    if barcodes:
        return decode_barcodes(e, s.sample_rate, bit_s, nbits)
    return e.rising, None


def _fit(s: StreamData, marks: tuple, ref_marks: tuple, rtimes: np.ndarray,
         ref_rate: float, why: str) -> tuple[list[list[float]], int, np.ndarray]:
    """Pieces ``[start, stop, a, b]`` of stream ``s`` fitted to the common-clock times of
    the reference's marks, per run between clock steps; matched count and residuals."""
    pos, values = marks
    tol = 1.5 * (1 / s.sample_rate + 1 / ref_rate) + 1e-3
    gap = np.median(np.diff(rtimes)) if len(rtimes) > 1 else 0.0
    if values is None and not gap > 4 * tol:
        raise SyncError(f"{why}: the reference pulses come every {gap * 1e3:.3g} ms (median), "
                        f"too dense to match within {tol * 1e3:.3g} ms")
    pieces, res, matched = [], [], 0
    stamps, _ = _stamp_fit(s)      # where the stamps put the stream: regular trains need it
    for start, stop, _rows in _pieces(s):
        inside = (pos >= start) & (pos < stop)
        p = pos[inside]
        piece = f" samples [{start}:{stop}] (between clock steps)" if (start, stop) != (
            s.first_index, s.stop_index) else ""
        if values is not None:
            _, ks, jr = np.intersect1d(values[inside], ref_marks[1], return_indices=True)
        else:
            mid = float(np.median(p)) if len(p) else float(start)
            hint = float(piece_times(stamps, np.array([mid]))[0]) - mid / s.sample_rate
            try:
                jr, ks = match_pulses(rtimes, p / s.sample_rate, tol, hint=hint)
            except AmbiguousPulses as exc:
                raise SyncError(f"{why}{piece}: {exc}") from None
        if len(ks) < MIN_MATCHED:
            raise SyncError(f"{why}{piece}: {len(ks)} of {len(p)} "
                            f"{'barcodes' if values is not None else 'pulses'} matched (the "
                            f"reference line has {len(rtimes)})")
        x, y = p[ks], rtimes[jr]
        a, b, keep = robust_line(x, y)
        if keep.sum() < MIN_MATCHED or not b > 0:
            raise SyncError(f"{why}{piece}: only {int(keep.sum())} marks fit one clock")
        pieces.append([start, stop, a, b])
        res.append((y - (a + b * x))[keep])
        matched += int(keep.sum())
    return pieces, matched, np.concatenate(res)


def store(recording: Any, result: dict[str, dict[str, Any]]) -> None:
    """Write ``result`` (from :func:`align`) into the manifest of a committed recording
    (atomic replace; a local one under its writer lock, so no writer appends meanwhile);
    alignments of other streams (an earlier run's) are dropped, since one recording has
    one common clock."""
    backend = recording.backend
    lock = lock_writer(backend.root) if isinstance(backend, LocalBackend) else None
    busy = isinstance(backend, LocalBackend) and lock is None
    try:
        recording.refresh()
        if busy or not recording.committed:
            raise StorageError(f"{recording.url}: the recording is still being written (or "
                               "its writer did not close it); align it once it is committed")
        for entry in recording.manifest["streams"]:
            if entry["name"] in result:
                entry["alignment"] = dict(result[entry["name"]])
            else:
                entry.pop("alignment", None)
        backend.write_manifest(dumps(recording.manifest))
    finally:
        if lock is not None:
            os.close(lock)
    recording.refresh()


def align_recording(recording: Any, lines: Iterable[str], reference: str | None = None,
                    barcodes: bool = False, same: Iterable[str] = (), **kw: Any
                    ) -> dict[str, dict[str, Any]]:
    """:func:`align` the streams of ``recording`` (and :func:`same_clock` ``same``), then
    :func:`store` the result."""
    streams = dict(recording.items())
    result = same_clock(streams, align(streams, list(lines), reference, barcodes, **kw), same)
    store(recording, result)
    return result
