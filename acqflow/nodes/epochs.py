"""Epocher: cut [-pre, +post] windows of a signal around trigger events, keep a running average."""
from __future__ import annotations

import threading

import numpy as np

from ..dataflow.streams.eventplace import (EventPlacer, epoch_dtype, epoch_window, event_fields,
                                  on_signal_clock, split_events)
from ..dataflow.graph.node import Node
from ..dataflow import paramcheck as check
from ..dataflow.streams.ringbuffer import RingBuffer
from ..dataflow.streams.threadpoll import ThreadPollInput
from .base import seconds_to_samples

__all__ = ["Epocher", "epoch_dtype"]


class Epocher(Node):
    """Trigger accumulator: one epoch per event, cut from the signal once its end has arrived.

    Inputs: ``signal`` (analogsignal (time, channels)) and ``events``: records with
    an ``index`` in samples of the signal (a trigger's output), bare integer indexes
    (pyacq's triggers; label b""), or markers that carry a ``time`` only (``index``
    -1 or absent: LSL markers, EventSource), placed on the sample ``index_at(time)`` of
    the signal's time model, fitted to its chunk stamps (see
    ``acqflow.dataflow.streams.eventplace``; a time on another host's clock is converted
    first).  A marker waits until the signal covers its time.
    Parameters: ``pre`` / ``post`` (s before / after the event),
    ``labels`` (None: every event; else the labels to keep), ``buffer_duration``
    (s of signal kept for late events, default max(5, 2 (pre + post))),
    ``max_pending`` (events waiting for their signal, 10000).

    Output ``output``: an event stream of records ``(index, label, epoch)`` with
    ``epoch`` of shape (n_samples, n_channels), so ``data['epoch']`` has shape
    (-1, n_samples, n_channels); ``epoch[j]`` is input sample ``index - n_pre + j``.
    ``average`` (n_samples, n_channels) and ``n_epochs`` are the running average.

    Events may arrive before or after their signal.  Delay: an epoch leaves once
    sample ``index + n_post - 1`` has arrived.  Gap policy: an epoch that
    overlaps a gap of the signal, or whose start is no longer buffered, is not
    sent and counted in ``rejected``; events beyond ``max_pending`` count too.
    """

    _input_specs = {"signal": {"streamtype": "analogsignal", "ndim": 2, "dtype_kinds": "fiu"},
                    "events": {"streamtype": "event"}}
    _output_specs = {"output": {"streamtype": "event"}}
    _signal_input = "signal"       # the signal input's name (pyacq's TriggerAccumulator: 'signals')

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self._lock = threading.RLock()
        self.average: np.ndarray | None = None
        self.n_epochs = 0
        self.rejected = 0

    def _configure(self, pre: float = 0.1, post: float = 0.5, labels: list | None = None,
                   buffer_duration: float | None = None, max_pending: int = 10000) -> None:
        check.positive_number("pre + post", check.non_negative_number("pre", pre, " s")
                              + check.non_negative_number("post", post, " s"), " s")
        if buffer_duration is not None:
            check.positive_number("buffer_duration", buffer_duration, " s")
        self.pre, self.post = float(pre), float(post)
        self.labels = None if labels is None else {str(x).encode() if not isinstance(x, bytes) else x
                                                   for x in labels}
        self.buffer_duration = max(5.0, 2 * (self.pre + self.post)) if buffer_duration is None \
            else float(buffer_duration)
        self.max_pending = int(max_pending)

    def configure(self, **kwargs) -> None:
        super().configure(**kwargs)
        if self.inputs[self._signal_input].connected:
            self._derive_output()

    # -- connection ----------------------------------------------------------
    def after_input_connect(self, inputname: str) -> None:
        super().after_input_connect(inputname)        # the _input_specs checks
        inp = self.inputs[inputname]
        try:
            if inputname == self._signal_input:
                if self._flag("configured"):
                    self._derive_output()
            else:
                problem = event_fields(inp.params["dtype"])
                if problem:
                    raise ValueError(f"node {self.name!r} input {inputname!r}: {problem}")
        except Exception:
            inp.close()
            raise

    def _derive_output(self) -> None:
        params = self.inputs[self._signal_input].params
        fs = float(params["sample_rate"])
        try:
            self.n_pre, self.n_post, self._epoch_dtype = epoch_window(self.pre, self.post, params)
        except ValueError as exc:
            raise ValueError(f"node {self.name!r}: {exc}") from None
        spec = {"streamtype": "event", "shape": (-1,), "dtype": self._epoch_dtype.descr,
                "sample_rate": fs, "pre": self.pre, "post": self.post}
        for key in ("channel_info", "units"):
            if key in params:
                spec[key] = params[key]
        self.outputs["output"].spec.update(spec)

    # -- life-cycle ----------------------------------------------------------
    def _initialize(self) -> None:
        params = self.inputs[self._signal_input].params
        fs = float(params["sample_rate"])
        n = self.n_pre + self.n_post
        size = max(seconds_to_samples(self.buffer_duration, fs), 2 * n, 1)
        self._ring = RingBuffer((size, params["shape"][1]), self._epoch_dtype["epoch"].base,
                                double=True)
        self._gaps: list[tuple[int, int]] = []
        self._expected: int | None = None
        self._pending: list[tuple[int, bytes]] = []
        self._placer = EventPlacer(fs, self.max_pending)
        self.reset_average()
        self._pollers: list[ThreadPollInput] = []

    @property
    def signal_index(self) -> int:
        """Absolute index after the last signal sample received (0 before any)."""
        with self._lock:
            return self._expected or 0

    def reset_average(self) -> None:
        """Forget the running average."""
        with self._lock:
            n = self.n_pre + self.n_post
            self.average = np.zeros((n, self.inputs[self._signal_input].params["shape"][1]))
            self.n_epochs = 0

    def _start(self) -> None:
        for name, handler in ((self._signal_input, self.on_signal), ("events", self.on_events)):
            poller = ThreadPollInput(self.inputs[name], return_data=True, name=f"{self.name} {name}",
                                     on_data=handler, on_error=self.set_error)
            poller.start()
            self._pollers.append(poller)

    def _stop(self) -> None:
        for poller in self._pollers:
            poller.stop()
        for poller in self._pollers:
            poller.join()
        self._pollers = []

    # -- processing (also called directly by tests and the benchmark) --------
    def on_signal(self, index: int, data: np.ndarray, t: float | None = None) -> None:
        """A signal chunk: buffer it, then cut the epochs it completes.  ``t``: the time of
        its last sample (default: the chunk's sample time as received)."""
        with self._lock:
            start = index - len(data)
            if self._expected is not None and start != self._expected:
                self._gaps.append((self._expected, start))
            self._expected = index
            ring = self._ring
            data = np.asarray(data, ring.dtype)[-ring.size:]
            ring.new_chunk(data, index)
            first = ring.first_index()
            self._gaps = [g for g in self._gaps if g[1] > first]
            self._queue(self._placer.signal(index, self.inputs[self._signal_input].last_sample_time
                                            if t is None else t))
            self._placer.forget_before(first)
            self._cut()

    def on_events(self, index: int, events: np.ndarray) -> None:
        """An events chunk: queue each (selected) event until its window has arrived."""
        with self._lock:
            idx, times, labels = split_events(events)
            if self.labels is not None:
                keep = [k for k, label in enumerate(labels) if label in self.labels]
                idx, labels = idx[keep], [labels[k] for k in keep]
                times = None if times is None else times[keep]
            if times is not None:
                times = on_signal_clock(self.inputs["events"], self.inputs[self._signal_input], times)
            dropped = self._placer.dropped
            self._queue(self._placer.add(idx, times, labels))
            self.rejected += self._placer.dropped - dropped
            self._cut()

    def _queue(self, placed: list[tuple[int, bytes]]) -> None:
        """Placed events (index, label) wait for the end of their window."""
        self._pending += placed
        excess = len(self._pending) - self.max_pending
        if excess > 0:
            self._pending.sort()
            del self._pending[:excess]
            self.rejected += excess

    def _cut(self) -> None:
        ring, head = self._ring, self._ring.index()
        ready: list = []
        waiting: list = []
        for ev in self._pending:
            (ready if ev[0] + self.n_post <= head else waiting).append(ev)
        self._pending = waiting
        if not ready:
            return
        ready.sort()
        first = ring.first_index()
        records = []
        for idx, label in ready:
            start, stop = idx - self.n_pre, idx + self.n_post
            if start < first or any(a < stop and start < b for a, b in self._gaps):
                self.rejected += 1
                continue
            records.append((idx, label, ring[start:stop]))
        if not records:
            return
        out = np.zeros(len(records), self._epoch_dtype)
        for k, (idx, label, window) in enumerate(records):
            out[k] = (idx, label, window)
        self._emit(out)

    def _emit(self, epochs: np.ndarray) -> None:
        """Hand on the epochs just cut (records ``(index, label, epoch)``, under the lock):
        update the running average, send them on ``output``.  Subclasses keep them elsewhere."""
        for epoch in epochs["epoch"]:
            self.n_epochs += 1
            self.average += (epoch - self.average) / self.n_epochs
        if self.outputs["output"].configured:
            self.outputs["output"].send(epochs)
