"""Player: replays a recording into a live graph at its original pace, with seek, pause and rate.

One output per stored stream (or a chosen subset), created at configure time
from the stored params.  Chunks are sent as they were recorded, in time order
across streams, each when its last sample's time comes (stored timestamps
scaled by ``rate``), with its original absolute index, so gaps stay gaps.  A
read-ahead thread reads and decodes the chunks ahead (a bounded queue), so the
send thread only waits for each chunk's time and sends it.  The
end of the recording moves the node to 'stopped' (``ended`` is set and the
``end_of_recording`` signal emitted; the run table and monitors show 'ended');
``end_of_stream=True`` also closes the outputs so downstream inputs see StreamClosed.
See docs/recording.md.
"""
from __future__ import annotations

import collections
import functools
import heapq
import logging
import math
import os
import threading
import time
from typing import Any, Iterator

import numpy as np

from ..dataflow.graph.node import Node
from ..dataflow.streams.outputstream import OutputStream
from ..dataflow.paramcheck import positive_number
from ..dataflow.streams.spec import replayed
from ..dataflow.stats import quantile
from ..dataflow.streams.threadpoll import Signal
from ..storage import LocalCache, Recording, StoredStream, open_recording
from .readahead import STOPPED, ReadAhead
from .stats import PlayerStats

__all__ = ["Player", "player_params"]

log = logging.getLogger(__name__)

_JOIN_TIMEOUT = 2.0
FRAME_CODECS = ("png", "jpg", "jpeg", "mjpg")     # each frame coded on its own: decoded in parallel


def player_params(stream: StoredStream) -> dict[str, Any]:
    """Output params replaying ``stream``: its stored params without the recording-only and
    transport ones (see spec.PARAMS; older recordings may hold some of those)."""
    return replayed(stream.params)


def _pieces(order: int, stream: StoredStream, start: int
            ) -> Iterator[tuple[float, int, str, int, Any]]:
    """Stored chunks of ``stream`` from ``start``: (last sample time, order, name, stop, data).
    Frames coded each on its own (png, jpg) come with ``data`` a read to run (the
    read-ahead decodes several at once); other streams are read in a row."""
    if start >= stream.stop_index:
        return
    if stream.codec and stream.codec.get("name") in FRAME_CODECS:
        table = stream.record_table(start, stream.stop_index)
        for s, e in zip(table["start"].tolist(), table["stop"].tolist()):
            lo = max(s, start)
            yield stream.time_at(e - 1), order, stream.name, e, functools.partial(_chunk, stream, lo, e)
        return
    for s, data in stream.chunks(start, stream.stop_index):
        stop = s + len(data)
        yield stream.time_at(stop - 1), order, stream.name, stop, data


def _chunk(stream: StoredStream, start: int, stop: int) -> np.ndarray:
    """Samples ``[start, stop)`` of one stored record, decoded (no copy beyond the decoder's)."""
    return next(stream.chunks(start, stop))[1]


class Player(Node):
    """Replays the streams of a recording (local path or fsspec URL) on its outputs."""

    _output_specs: dict[str, dict] = {}
    # `acqflow run --check` does not configure it: its configure opens the recording (maybe remote)
    dry_configure = False
    infinite_params = ("rate",)      # `--check`: rate .inf (no pacing) is a valid speed factor

    def __init__(self, name: str | None = None):
        super().__init__(name=name)
        self.end_of_recording = Signal()
        self.ended = threading.Event()
        self.recording: Recording | None = None
        self.index_offsets: dict[str, int] = {}
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._halt = False
        self._paused = False
        self._sending = False       # the replay thread is in send() (pause() waits for it)
        self._seek_to: dict[str, int] | None = None
        self._next: dict[str, int] = {}   # per stream: next stored index to send
        self._vpos = 0.0            # virtual recording time at wall reference
        self._wall_ref = 0.0
        self._sent: dict[str, list[int]] = {}
        self._lateness: collections.deque = collections.deque(maxlen=10000)
        self._gen = 0               # replay thread generation
        self._stuck: threading.Thread | None = None
        self._reader: ReadAhead | None = None   # reads and decodes ahead of the send thread

    # -- configuration ---------------------------------------------------------
    def _configure(self, url: str | os.PathLike = "", streams: list[str] | None = None,
                   rate: float = 1.0, loop: bool = False, end_of_stream: bool = False,
                   start: float | None = None, cache: LocalCache | dict | bool | None = None,
                   storage_options: dict[str, Any] | None = None, verify: bool = False) -> None:
        """Parameters:

        url: recording directory or fsspec URL (``s3://bucket/rec``).
        streams: names of the streams to replay (default: all), one output each.
        rate: speed factor (2.0 = twice as fast; ``float('inf')`` = as fast as possible).
        loop: start again at the beginning after the end (indexes keep increasing).
        end_of_stream: close the outputs at the end (downstream sees StreamClosed).
        start: recording time (s, clock seconds as stored) to start from.
        cache / storage_options / verify: as for ``open_recording`` (remote URLs read
            through the default local cache, ``~/.cache/acqflow``; give a LocalCache, its
            kwargs as a dict, or False for none).
        """
        if not url:
            raise ValueError(f"{self.name}: url is required")
        self._check_rate(rate)
        rec = open_recording(url, verify=verify, cache=cache, storage_options=storage_options)
        names = list(rec.streams) if streams is None else list(streams)
        missing = [n for n in names if n not in rec]
        if missing or not names:
            rec.close()
            raise ValueError(f"{self.name}: {rec.url} has no stream(s) {missing or names}; "
                             f"streams: {', '.join(rec.streams)}")
        for out in self.outputs.values():
            out.close()
        if self.recording is not None:
            self.recording.close()
        self.recording = rec
        self.streams = {n: rec[n] for n in names}
        self.outputs = {n: OutputStream(spec=player_params(s), node=self, name=n)
                        for n, s in self.streams.items()}
        self.index_offsets = {n: 0 for n in names}
        self.rate, self.loop, self.end_of_stream = float(rate), bool(loop), bool(end_of_stream)
        self._seek_to = None
        self._next = self._starts_at_time(start) if start is not None else \
            {n: s.first_index for n, s in self.streams.items()}
        self._vpos = self.start_time if start is None else float(start)

    def _check_rate(self, rate: float) -> None:
        positive_number(f"{self.name}: rate (inf: no pacing)", rate, inf_ok=True)

    # -- time and positions ----------------------------------------------------
    @property
    def start_time(self) -> float:
        """Time of the first stored sample over the replayed streams."""
        ranges = [s.time_range for s in self.streams.values() if s.time_range]
        return min(r[0] for r in ranges) if ranges else 0.0

    @property
    def end_time(self) -> float:
        """Time of the last stored sample over the replayed streams."""
        ranges = [s.time_range for s in self.streams.values() if s.time_range]
        return max(r[1] for r in ranges) if ranges else 0.0

    @property
    def position(self) -> float:
        """Current replay time (recording clock seconds)."""
        with self._cv:
            return self._now_pos()

    def _now_pos(self) -> float:
        if self._thread is None or self._paused or math.isinf(self.rate):
            return self._vpos
        return self._vpos + (time.monotonic() - self._wall_ref) * self.rate

    def _rebase(self, pos: float) -> None:
        self._vpos, self._wall_ref = pos, time.monotonic()

    def _starts_at_time(self, t: float) -> dict[str, int]:
        return {n: s.index_at(t) for n, s in self.streams.items()}

    # -- control (any thread) ---------------------------------------------------
    def seek(self, t: float | None = None, index: int | None = None,
             stream: str | None = None) -> float:
        """Jump to recording time ``t``, or to absolute ``index`` of ``stream`` (default:
        the first replayed stream; an index in a gap goes to the gap's end).
        Returns the new position.  Works while running, paused or stopped."""
        if (t is None) == (index is None):
            raise ValueError("seek() takes either t or index")
        if index is not None:
            name = stream or next(iter(self.streams))
            s = self.streams[name]
            i = min(max(int(index), s.first_index), s.stop_index)
            for g0, g1 in s.gaps_in(i, min(i + 1, s.stop_index)) if i < s.stop_index else []:
                i = g1
            t = s.time_at(i) if i < s.stop_index else self.end_time
            starts = self._starts_at_time(t)
            starts[name] = i
        else:
            assert t is not None             # (either t or index: checked above)
            starts = self._starts_at_time(float(t))
        with self._cv:
            self._seek_to = starts
            self._rebase(float(t))
            self.ended.clear()
            self._cv.notify_all()
        return float(t)

    def pause(self) -> None:
        """Hold the replay (the node stays 'running'); resume() continues from here.
        Returns once no chunk is being sent (up to a few seconds for a blocked send), so
        ``stats()`` then counts every chunk this replay will send until resume()."""
        with self._cv:
            if not self._paused:
                self._vpos = self._now_pos()
                self._paused = True
                self._cv.notify_all()
            if self._thread is not threading.current_thread():
                self._cv.wait_for(lambda: not self._sending, _JOIN_TIMEOUT)

    def resume(self) -> None:
        """Continue after pause(), at the same replay position."""
        with self._cv:
            if self._paused:
                self._paused = False
                self._rebase(self._vpos)
                self._cv.notify_all()

    @property
    def paused(self) -> bool:
        """True between pause() and resume()."""
        return self._paused

    def set_rate(self, rate: float) -> None:
        """Change the speed factor, now (the position does not jump)."""
        self._check_rate(rate)
        with self._cv:
            self._rebase(self._now_pos())
            self.rate = float(rate)
            self._cv.notify_all()

    def wait_end(self, timeout: float | None = None) -> bool:
        """Wait until the end of the recording is reached; False on timeout."""
        return self.ended.wait(timeout)

    # -- life-cycle ------------------------------------------------------------
    def _start(self) -> None:
        with self._cv:
            if self.ended.is_set() and self._seek_to is None:    # replay again
                self._seek_to = {n: s.first_index for n, s in self.streams.items()}
                self._vpos = self.start_time
            self.ended.clear()
            self._halt = False
            self._gen += 1          # a stale thread (stuck in send) never plays again
            self._rebase(self._vpos)
            self._thread = threading.Thread(target=self._run, args=(self._gen,),
                                            name=f"{self.name} player", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop replaying (position kept; start() continues).  A no-op once the
        replay reached its end (the node is then already 'stopped')."""
        with self._state_lock:
            if self.state == "stopped":
                return
            super().stop()

    def _stop(self) -> None:
        with self._cv:
            self._vpos = self._now_pos()
            self._halt = True
            self._cv.notify_all()
        self._stop_reading()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(_JOIN_TIMEOUT)
            if thread.is_alive():   # blocked in send(): a 'block' output whose reader stalled
                log.warning("%s: replay thread is blocked sending; it ends once the send "
                            "returns (or when the outputs close)", self.name)
                self._stuck = thread

    def _close(self) -> None:
        self._stop()
        stuck, self._stuck = self._stuck, None
        if stuck is not None:       # closing the outputs makes its send() raise
            for out in self.outputs.values():
                out.close()
            stuck.join(_JOIN_TIMEOUT)
        if self.recording is not None:
            self.recording.close()

    # -- the replay thread -------------------------------------------------------
    def _iterate(self, starts: dict[str, int]) -> Iterator[tuple[float, int, str, int, np.ndarray]]:
        """Merged chunks from per-stream start indexes; offsets keep indexes increasing."""
        self._next = dict(starts)
        for name, s in self.streams.items():
            i0 = starts.get(name, s.first_index)
            sent = self.outputs[name].index if self.outputs[name].configured else 0
            self.index_offsets[name] = max(self.index_offsets[name], sent - i0)
        return heapq.merge(*[_pieces(k, s, starts.get(n, s.first_index))
                             for k, (n, s) in enumerate(self.streams.items())],
                           key=lambda x: (x[0], x[1]))

    def _run(self, gen: int) -> None:
        try:
            self._play(gen)
        except BaseException as exc:  # reported, never swallowed
            if self._halt or gen != self._gen:
                return              # unblocked by close(): not an error
            log.exception("%s: replay failed", self.name)
            reason = f"replay failed: {type(exc).__name__}: {exc}"
            self._locked_state(lambda: self.set_error(reason))

    def _locked_state(self, fn) -> None:
        """Run ``fn`` under the state lock, unless stop()/close() holds it to join us."""
        while not self._state_lock.acquire(timeout=0.05):
            if self._halt:
                return
        try:
            fn()
        finally:
            self._state_lock.release()

    def _read_ahead(self, starts: dict[str, int]) -> ReadAhead:
        """A new read-ahead thread over the merged chunks from ``starts`` (the old one ends)."""
        self._stop_reading()
        reader = self._reader = ReadAhead(self._iterate(starts), f"{self.name} read-ahead")
        reader.start()
        return reader

    def _stop_reading(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.stop()

    def _next_chunk(self, chunks: ReadAhead):
        """The next chunk, read and decoded ahead by the read-ahead thread (None: the end)."""
        return chunks.get()

    def _play(self, gen: int) -> None:
        try:
            self._play_chunks(gen)
        finally:
            if gen == self._gen:
                self._stop_reading()

    def _play_chunks(self, gen: int) -> None:
        chunks, pending = None, None
        while True:
            with self._cv:
                if self._halt or gen != self._gen:
                    return
                if self._seek_to is not None:
                    self._next, self._seek_to = self._seek_to, None
                    chunks = pending = None
                if chunks is None:
                    chunks = self._read_ahead(self._next)
                if self._paused:
                    self._cv.wait()
                    continue
            if pending is None:
                item = self._next_chunk(chunks)
                with self._cv:
                    if self._seek_to is not None or self._halt or gen != self._gen:
                        continue
                    if item is STOPPED:           # stopped from outside: read again from here
                        chunks = None
                        continue
                    if item is None:
                        if self.loop and any(s.n_records for s in self.streams.values()):
                            self._seek_to = {n: s.first_index for n, s in self.streams.items()}
                            self._rebase(self.start_time)
                            continue
                        break
                    pending = item
            with self._cv:
                if self._seek_to is not None or self._halt or self._paused or gen != self._gen:
                    continue
                target = self._wall_ref + (pending[0] - self._vpos) / self.rate
                delay = target - time.monotonic()
                if delay > 0:
                    self._cv.wait(delay)
                    continue
                t, _, name, stop, data = pending
                pending = None
                self._sending = True
                if math.isinf(self.rate):
                    self._vpos = t
                else:
                    self._lateness.append(-delay)
                offset = self.index_offsets[name]
            # the chunk's time: its recorded time (the recording's clock), not the replay's
            try:
                self.outputs[name].send(np.ascontiguousarray(data), index=stop + offset, time=t)
            finally:
                with self._cv:
                    self._sending = False
                    self._cv.notify_all()
            with self._cv:
                if gen != self._gen:
                    return
                self._next[name] = stop
                counts = self._sent.setdefault(name, [0, 0])
                counts[0] += 1
                counts[1] += len(data)
        self._finish()

    def _finish(self) -> None:
        """End of the recording: state 'stopped', ``ended`` set, signal emitted."""
        with self._cv:
            self._vpos = self.end_time

        def to_stopped() -> None:
            if self.state == "running":
                self.state = "stopped"
                self._thread = None
        # 'stopped' before the outputs close, so whoever sees the end downstream
        # also sees the node stopped; ``ended`` last, so wait_end() sees both.
        self._locked_state(to_stopped)
        if self.end_of_stream:
            for out in self.outputs.values():
                out.close()
        self.ended.set()
        self.end_of_recording.emit()

    def stats(self) -> PlayerStats:
        """Chunks/samples sent per stream, index offsets, and pacing lateness
        (send time minus due time, s: p50, p99, max) of the paced chunks."""
        late = sorted(self._lateness)
        return PlayerStats(position=self.position, rate=self.rate, ended=self.ended.is_set(),
                           sent={n: {"chunks": c, "samples": k} for n, (c, k) in self._sent.items()},
                           index_offsets=dict(self.index_offsets),
                           lateness_p50=quantile(late, 0.5), lateness_p99=quantile(late, 0.99),
                           lateness_max=late[-1] if late else None)
