"""One LSL stream captured into a recording: its inlet, pulling thread, clock offsets and gaps.

A capture owns two recording streams for a numeric LSL stream: ``NAME`` (the samples) and
``NAME.timestamps`` (each sample's LSL time stamp, float64 ``(-1, 1)``, same indexes); a string
stream becomes one 'event' stream ``NAME`` whose ``time`` field is the LSL stamp.  Stamps are
on the source's clock, as LabRecorder stores them; ``time_correction()`` is sampled at start and
every ``sync_interval`` s into the stream's ``clock_sync`` manifest entry.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import numpy as np

from ..storage.xdf import LSL_CLOCK, TIMESTAMPS_SUFFIX, cut_utf8, lsl_clock_sync, string_dtype
from .info import channel_info, desc_channels, dtype_for_format, pylsl, stream_metadata

__all__ = ["StreamCapture", "stream_key"]

log = logging.getLogger(__name__)
_HISTORY_MAX = 100_000


def stream_key(info) -> tuple[str, str, str, str]:
    """What identifies a stream across outlet restarts: name, type, source_id, hostname."""
    return info.name(), info.type(), info.source_id(), info.hostname()


class StreamCapture:
    """Pulls one LSL stream into ``writer`` on its own thread; reattaches after a loss.

    ``manifest_lock`` serialises the writer's manifest updates with other captures'.
    """

    def __init__(self, writer, info, name: str, manifest_lock: threading.Lock, *,
                 sync_interval: float = 5.0, max_buflen: int = 360, max_chunk: int = 1024,
                 label_size: int = 256, open_timeout: float = 10.0,
                 on_lost: Callable[["StreamCapture"], None] | None = None):
        self.writer, self.name, self.key = writer, name, stream_key(info)
        self._mlock = manifest_lock
        self.sync_interval, self.max_buflen, self.max_chunk = sync_interval, max_buflen, max_chunk
        self.label_size, self.open_timeout, self.on_lost = label_size, open_timeout, on_lost
        self.uids: set[str] = set()       # every outlet instance seen (never reattach to these)
        self.samples = 0
        self.reconnects: list[list[Any]] = []
        self.truncated_labels = 0
        self.lost = False
        self.error: BaseException | None = None
        self._offsets: list[list[float]] = []
        self._last_stamp: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._inlet: Any = None          # a pylsl StreamInlet once opened
        self._attach(info, first=True)

    # -- attaching -----------------------------------------------------------------
    def _attach(self, info, first: bool = False) -> None:
        lsl = pylsl()
        inlet = lsl.StreamInlet(info, max_buflen=self.max_buflen, recover=False)
        full = inlet.info(timeout=self.open_timeout)          # the whole header, with <desc>
        inlet.open_stream(timeout=self.open_timeout)
        self.info, self.uids = full, self.uids | {full.uid()}
        self.dtype = dtype_for_format(full.channel_format())
        self.channels = full.channel_count()
        self.rate = full.nominal_srate()
        try:
            tc = inlet.time_correction(timeout=self.open_timeout)  # raises if already gone
            if first:
                self._declare(full)
        except BaseException:
            inlet.close_stream()
            raise
        self._inlet = inlet
        self.lost = False
        self._synced = time.monotonic()
        self._add_offset(tc)

    def _add_offset(self, tc: float) -> None:
        self._offsets.append([pylsl().local_clock(), tc])
        del self._offsets[:-_HISTORY_MAX]
        self._write_clock()

    def _declare(self, info) -> None:
        meta = stream_metadata(info)
        rate = self.rate if self.rate > 0 else 1.0
        chans = channel_info(self.channels, desc_channels(meta["lsl_info_xml"]))
        with self._mlock:
            if self.dtype is None:
                if self.channels != 1:
                    raise ValueError(f"LSL string stream {info.name()!r} has {self.channels} "
                                     "channels; only single-channel marker streams are recorded")
                self.writer.add_stream(self.name, streamtype="event",
                                       dtype=string_dtype(self.label_size), shape=(-1,),
                                       sample_rate=rate, time_field="time", clock=LSL_CLOCK,
                                       channel_info=chans, **meta)
                self.ts_name = None
            else:
                self.ts_name = self.name + TIMESTAMPS_SUFFIX
                self.writer.add_stream(self.name, streamtype="analogsignal",
                                       dtype=self.dtype, shape=(-1, self.channels),
                                       sample_rate=rate, channel_info=chans, clock=LSL_CLOCK,
                                       lsl_timestamps=self.ts_name, **meta)
                self.writer.add_stream(self.ts_name, streamtype="analogsignal", dtype="float64",
                                       shape=(-1, 1), sample_rate=rate, clock=LSL_CLOCK,
                                       lsl_timestamps_of=self.name,
                                       channel_info=[{"name": "time", "units": "s",
                                                      "clock": "lsl"}])
        self.index = self.writer.stream_stop(self.name)

    def reattach(self, info) -> None:
        """Continue after a loss on a new outlet instance; the samples missed become a gap."""
        self._attach(info)
        self.reconnects.append([pylsl().local_clock(), self.info.uid()])
        self._write_clock()
        self.start()

    # -- clock offsets ---------------------------------------------------------------
    def _sync(self) -> None:
        now = time.monotonic()
        if now - self._synced < self.sync_interval:
            return
        self._synced = now
        try:
            tc = self._inlet.time_correction(timeout=2.0)
        except pylsl().util.TimeoutError:
            return
        self._add_offset(tc)

    def clock_sync(self) -> dict[str, Any]:
        """The ``clock_sync`` manifest entry: acqflow's fields plus LabRecorder's offsets."""
        return lsl_clock_sync(self._offsets, f"{self.info.hostname()}:{self.info.uid()}",
                              self.reconnects, truncated_labels=self.truncated_labels)

    def _write_clock(self) -> None:
        with self._mlock:
            for name in (self.name, getattr(self, "ts_name", None)):
                if name:
                    self.writer.set_stream_clock(name, self.clock_sync())

    # -- pulling -----------------------------------------------------------------------
    def start(self) -> None:
        """Start (or restart) the pulling thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"lsl-capture:{self.name}",
                                        daemon=True)
        self._thread.start()

    def _pull(self):
        if self.dtype is None:
            data, stamps = self._inlet.pull_chunk(timeout=0.2, max_samples=self.max_chunk,
                                                  min_samples=1, as_numpy=True)
            return data, np.asarray(stamps, dtype=np.float64)
        data, stamps = self._inlet.pull_chunk(timeout=0.2, max_samples=self.max_chunk,
                                              min_samples=1, as_numpy=True)
        return np.asarray(data, dtype=self.dtype).reshape(-1, self.channels), \
            np.asarray(stamps, dtype=np.float64)

    def _gap(self, first_stamp: float) -> int:
        """Samples missed between the last stamp before a loss and ``first_stamp`` (>= 1)."""
        if self._last_stamp is None:
            return 0
        if self.rate > 0:
            return max(1, int(round((first_stamp - self._last_stamp) * self.rate)) - 1)
        return 1

    def _run(self) -> None:
        lost = pylsl().util.LostError
        resumed = bool(self.reconnects)
        try:
            while not self._stop.is_set():
                try:
                    data, stamps = self._pull()
                    self._sync()
                except lost:
                    self._close_inlet()           # before `lost`: a reattach may follow at once
                    self.lost = True
                    log.warning("LSL stream %r lost after %d samples; waiting for it to "
                                "come back", self.name, self.samples)
                    if self.on_lost is not None:
                        self.on_lost(self)
                    return
                if not len(stamps):
                    continue
                if resumed:
                    self.index += self._gap(float(stamps[0]))
                    resumed = False
                self._write(data, stamps)
        except BaseException as exc:          # reported by the recorder, never silent
            self.error = exc
            log.exception("LSL capture of %r failed", self.name)

    def _write(self, data, stamps: np.ndarray) -> None:
        n = len(stamps)
        stop = self.index + n
        t = float(stamps[-1])
        if self.dtype is None:
            events = np.zeros(n, dtype=string_dtype(self.label_size))
            events["index"] = -1
            events["time"] = stamps
            labels = [bytes(v) if not isinstance(v, str) else v.encode() for v in data[:, 0]]
            self.truncated_labels += sum(len(b) > self.label_size for b in labels)
            events["label"] = [cut_utf8(b, self.label_size) for b in labels]  # whole characters
            self.writer.write(self.name, events, index=stop, timestamp=t)
        else:
            self.writer.write(self.name, data, index=stop, timestamp=t)
            self.writer.write(self.ts_name, stamps[:, None], index=stop, timestamp=t)
        self.index = stop
        self.samples += n
        self._last_stamp = t

    def stop(self, timeout: float = 5.0) -> None:
        """Stop pulling and close the inlet; the last clock offsets go to the manifest."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._inlet is not None:
            self._write_clock()
        self._close_inlet()

    def _close_inlet(self) -> None:
        if self._inlet is not None:
            try:
                self._inlet.close_stream()
            except Exception:   # pragma: no cover - best effort on a lost stream
                pass
            self._inlet = None

    def summary(self) -> dict[str, Any]:
        """Counters for the caller: samples, reconnects, lost, LSL identity."""
        return {"name": self.name, "lsl_name": self.key[0], "type": self.key[1],
                "source_id": self.key[2], "hostname": self.key[3], "samples": self.samples,
                "reconnects": len(self.reconnects), "lost": self.lost,
                "offsets": len(self._offsets), "truncated_labels": self.truncated_labels}
