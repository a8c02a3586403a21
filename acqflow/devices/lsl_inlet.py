"""LSLInlet: receives a Lab Streaming Layer stream into the graph (through pylsl)."""
from __future__ import annotations

import time
from typing import Any, Literal

import numpy as np

from ..dataflow import paramcheck as check
from ._base import DeviceNode
from ._lsl import (channel_info, clock_offset, desc_channels, dtype_for_format, pylsl,
                   resolve_stream, stream_metadata)
from .events import event_dtype

__all__ = ["LSLInlet"]


def chunk_end_time(times: np.ndarray, step: float = 0.05) -> float:
    """When the last of a regular chunk's samples was taken: the least-squares line through
    its stamps, at its last sample.  LSL stamps jitter (an outlet stamps at arrival); the
    line's end is never further off than the last stamp alone, and ~2/sqrt(n) as far for n
    samples, so a time model fitted to chunk times is right from its first chunks, however
    big (a loaded machine pulls hundreds of samples at once).  A stamp more than ``step`` s
    off the line (the outlet's clock stepped in the chunk): the last stamp."""
    n = len(times)
    if n < 3:
        return float(times[-1])
    x = np.arange(n, dtype=np.float64)
    y = times - times[-1]
    line = np.polyval(np.polyfit(x, y, 1), x)
    if np.abs(y - line).max() > step:
        return float(times[-1])
    return float(times[-1] + line[-1])


class LSLInlet(DeviceNode):
    """Resolves one LSL stream and sends it on ``signals``, its times on ``timestamps``.

    Numeric streams become an 'analogsignal' ``(-1, channel_count)`` of the mapped
    dtype, channel labels, units and types in ``channel_info`` (and ``units`` when every
    channel has the same), the LSL identity and whole XML header as metadata
    (``lsl_name``, ``lsl_source_id``, ``lsl_info_xml``...); string (marker) streams become
    an 'event' stream of EventSource's dtype
    ``(index=-1, time, label)``.  ``timestamps`` (float64 ``(-1, 1)``, same
    indexes) holds each sample's LSL time stamp converted to acqflow's clock:
    ``lsl_stamp + inlet.time_correction() + (clock.now() - local_clock())``.  Each chunk of
    a regular stream is sent with its last sample's time fitted to all of its stamps
    (:func:`chunk_end_time`), other streams' with their last stamp.
    Samples are pulled in chunks straight into a preallocated numpy buffer.  If
    the outlet disappears the node goes to ``error`` and closes its outputs.
    """

    # signals: 'analogsignal' or 'event', known once the stream is resolved (a graph file
    # may declare it with the ``streamtype`` param, see declared_outputs)
    _output_specs = {"signals": {},
                     "timestamps": {"streamtype": "analogsignal"}}
    # `acqflow run --check` does not configure it: its configure resolves the LSL stream on the network
    dry_configure = False

    @classmethod
    def declared_outputs(cls, params: dict) -> dict[str, dict]:
        """What node ``params`` tell of the outputs before configure(): ``streamtype``."""
        st = params.get("streamtype")
        return {"signals": {"streamtype": st}} if st in ("analogsignal", "event") else {}

    def __init__(self, name: str | None = None):
        super().__init__(name=name)
        self._inlet: Any = None          # a pylsl StreamInlet once resolved

    def _configure(self, name: str | None = None, type: str | None = None,
                   source_id: str | None = None, resolve_timeout: float = 5.0,
                   max_chunk: int = 1024, max_buflen: int = 360, label_size: int = 64,
                   clock_sync_interval: float = 5.0,
                   streamtype: Literal["analogsignal", "event"] | None = None) -> None:
        """Parameters:

        name / type / source_id: fields the stream must match (at least one).
        resolve_timeout: seconds to wait for it; then RuntimeError lists what is visible.
        max_chunk: most samples per pull (and per sent chunk).  max_buflen: seconds
            liblsl buffers for us.  label_size: bytes per label for string streams.
        clock_sync_interval: seconds between ``time_correction()`` refreshes.
        streamtype: what ``signals`` must be, 'analogsignal' (numeric) or 'event'
            (string markers); lets a graph file be checked before the stream is
            resolved.  None: whatever the stream is.
        """
        lsl = pylsl()
        check.int_in(f"{self.name}: max_chunk", max_chunk)
        check.one_of("analogsignal", "event", none_ok=True)(f"{self.name}: streamtype", streamtype)
        info = resolve_stream(name, type, source_id, resolve_timeout)
        dtype = dtype_for_format(info.channel_format())
        found = "analogsignal" if dtype is not None else "event"
        if streamtype is not None and streamtype != found:
            kind = "numbers" if dtype is not None else "strings (markers)"
            raise ValueError(f"{self.name}: LSL stream {info.name()!r} holds {kind}: its signals "
                             f"are {found!r}, not streamtype={streamtype!r}")
        n = info.channel_count()
        if dtype is None and n != 1:
            raise ValueError(f"{self.name}: string stream {info.name()!r} has {n} channels; only "
                             f"single-channel marker streams are supported")
        self._close_inlet()
        # recover=False: a vanished outlet raises LostError instead of waiting forever
        self._inlet = lsl.StreamInlet(info, max_buflen=max_buflen, recover=False)
        info = self._inlet.info(timeout=resolve_timeout)       # the full header, with <desc>
        self.info, self.dtype, self.channels = info, dtype, n
        self.max_chunk, self.max_buflen = max_chunk, max_buflen
        self.label_size, self.clock_sync_interval = label_size, clock_sync_interval
        srate = info.nominal_srate()
        meta = stream_metadata(info)          # identity, format, the whole XML header
        chans = channel_info(n, desc_channels(meta["lsl_info_xml"]))
        units = {c.get("units", "") for c in chans}
        if len(units) == 1 and units != {""}:
            meta["units"] = units.pop()       # one unit for every channel: the stream's
        rate = srate if srate > 0 else 1.0
        self.regular = srate > 0
        if dtype is None:
            meta.pop("units", None)
            self._set_output_spec("signals", streamtype="event", dtype=event_dtype(label_size).descr,
                                  shape=(-1,), sample_rate=rate, time_field="time", **meta)
        else:
            self._set_output_spec("signals", streamtype="analogsignal", dtype=dtype.str,
                                  shape=(-1, n), sample_rate=rate,
                                  channel_info=chans, **meta)
        self._set_output_spec("timestamps", streamtype="analogsignal", dtype="float64", shape=(-1, 1),
                              sample_rate=rate,
                              channel_info=[{"name": "time", "units": "s", "clock": "acqflow"}])

    # -- life-cycle ----------------------------------------------------------
    def _initialize(self) -> None:
        self._check_outputs()
        self._inlet.open_stream(timeout=5.0)
        if self.dtype is not None:
            self._buf = np.empty((self.max_chunk, self.channels), dtype=self.dtype)
        self.correction = self._inlet.time_correction(timeout=5.0)
        self._offset = clock_offset()
        self._synced = time.monotonic()
        self.received = 0

    def _start(self) -> None:
        self.add_worker(self._step, "puller")

    def _sync_clock(self) -> None:
        if time.monotonic() - self._synced >= self.clock_sync_interval:
            self.correction = self._inlet.time_correction(timeout=1.0)
            self._offset = clock_offset()
            self._synced = time.monotonic()

    def _pull(self) -> tuple[Any, np.ndarray]:
        """One chunk as (data, lsl stamps); data is a fresh array (or labels for strings)."""
        if self.dtype is None:
            labels, stamps = self._inlet.pull_chunk(timeout=0.2, max_samples=self.max_chunk)
            return labels, np.asarray(stamps, dtype=np.float64)
        try:
            _, stamps = self._inlet.pull_chunk(timeout=0.2, max_samples=self.max_chunk,
                                               dest_obj=self._buf, min_samples=1, as_numpy=True)
        except TypeError:                      # pylsl < 1.18: no min_samples / as_numpy
            _, stamps = self._inlet.pull_chunk(timeout=0.05, max_samples=self.max_chunk,
                                               dest_obj=self._buf)
        stamps = np.asarray(stamps, dtype=np.float64)
        return self._buf[:len(stamps)].copy(), stamps

    def _step(self) -> None:
        lsl_util = __import__("pylsl.util", fromlist=["LostError"])
        try:
            data, stamps = self._pull()
        except lsl_util.LostError:
            raise RuntimeError(f"LSL stream {self.info.name()!r} lost (its outlet closed or "
                               f"vanished) after {self.received} samples") from None
        if not len(stamps):
            return
        self._sync_clock()
        times = stamps + self.correction + self._offset
        if self.dtype is None:
            events = np.zeros(len(stamps), dtype=event_dtype(self.label_size))
            events["index"] = -1
            events["time"] = times
            events["label"] = [str(s[0]).encode("utf-8")[:self.label_size] for s in data]
            data = events
        # the chunk's time: when its last sample was taken, from all of its stamps
        last = chunk_end_time(times) if self.dtype is not None and self.regular else float(times[-1])
        self.outputs["signals"].send(data, time=last)
        self.outputs["timestamps"].send(times[:, np.newaxis], time=last)
        self.received += len(stamps)

    def _close_inlet(self) -> None:
        if self._inlet is not None:
            try:
                self._inlet.close_stream()
            except Exception:   # pragma: no cover - best effort
                pass
            self._inlet = None

    def _close_device(self) -> None:
        self._close_inlet()
