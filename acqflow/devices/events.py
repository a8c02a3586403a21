"""EventSource: programmatic and keyboard markers as an event stream (annotations)."""
from __future__ import annotations

import queue
import threading
from typing import IO

import numpy as np

from ..dataflow import clock
from ..dataflow import paramcheck as check
from ..dataflow.errors import StreamError
from ..dataflow.node import NodeStateError
from ._base import DeviceNode, current_worker

__all__ = ["EventSource", "event_dtype"]


def event_dtype(label_size: int = 16) -> np.dtype:
    """The event sample: reference sample ``index``, clock ``time`` (s), ``label`` bytes."""
    return np.dtype([("index", "int64"), ("time", "float64"), ("label", f"S{label_size}")])


class EventSource(DeviceNode):
    """Sends markers on output ``events`` (streamtype 'event'), one sample per marker.

    Each sample is ``(index, time, label)``: ``time`` is acqflow's clock
    (``acqflow.dataflow.clock.now``, seconds since the epoch) when the event was
    pushed; ``index`` is the sample index of the event in a reference signal when
    ``reference_rate``/``reference_start`` are configured (``round((time -
    reference_start) * reference_rate)``), else -1 unless given by the caller.
    """

    _output_specs = {"events": {"streamtype": "event"}}

    def _configure(self, label_size: int = 16, reference_rate: float | None = None,
                   reference_start: float | None = None, keyboard: bool | IO[str] = False) -> None:
        """Parameters:

        label_size: bytes per label (labels are UTF-8; a longer one is refused).
        reference_rate / reference_start: map event times to sample indexes of a
            signal started at clock time ``reference_start`` (default: start()).
        keyboard: True reads lines typed on stdin, or give any text stream (file,
            pipe); each non-empty line becomes an event.
        """
        check.int_in(f"{self.name}: label_size", label_size, 1, 1024)
        if reference_rate is not None:
            check.positive_number(f"{self.name}: reference_rate", reference_rate, " Hz")
        if keyboard is not False and keyboard is not True and not hasattr(keyboard, "readline"):
            check.must_be(f"{self.name}: keyboard", "True, False or a text stream", keyboard)
        self.label_size, self.reference_rate = label_size, reference_rate
        self.reference_start, self.keyboard = reference_start, keyboard
        self.dtype = event_dtype(label_size)
        self._set_output_spec("events", streamtype="event", dtype=self.dtype.descr, shape=(-1,),
                              label_size=label_size, time_field="time",
                              **({"reference_rate": float(reference_rate)} if reference_rate else {}))

    def _initialize(self) -> None:
        self._check_outputs()
        self._queue: queue.Queue = queue.Queue()
        self.pushed = 0

    def push_event(self, label: str | bytes, time: float | None = None,
                   index: int | None = None) -> None:
        """Queue a marker now (or at clock ``time``); sent by the node's thread."""
        if self.state != "running":
            raise NodeStateError(f"cannot push_event() on node {self.name!r} in state "
                                 f"{self.state!r}: start() it first")
        self._enqueue(label, time, index)

    def _enqueue(self, label: str | bytes, time: float | None, index: int | None) -> None:
        raw = label.encode("utf-8") if isinstance(label, str) else bytes(label)
        if len(raw) > self.label_size:
            raise ValueError(f"{self.name}: label {label!r} is {len(raw)} bytes, more than "
                             f"label_size={self.label_size}")
        t = clock.now() if time is None else float(time)
        if index is None:
            index = -1 if self.reference_rate is None else \
                int(round((t - self._ref_start) * self.reference_rate))
        self._queue.put((int(index), t, raw))

    def _start(self) -> None:
        self._ref_start = clock.now() if self.reference_start is None else self.reference_start
        self.add_worker(self._step, "sender")
        self._kb_stop = threading.Event()
        if self.keyboard is not False:
            stream = self.keyboard
            if stream is True:
                import sys
                stream = sys.stdin
            threading.Thread(target=self._read_keyboard, args=(stream, self._kb_stop), daemon=True,
                             name=f"{self.name} keyboard").start()

    def _close_device(self) -> None:
        if hasattr(self, "_kb_stop"):
            self._kb_stop.set()

    def _read_keyboard(self, stream: IO[str], stop: threading.Event) -> None:
        """Each line typed (or read) becomes an event; ends at end of file or on stop."""
        for line in iter(stream.readline, ""):
            if stop.is_set():
                break
            line = line.strip()
            if line:
                self._enqueue(line.encode("utf-8")[:self.label_size], None, None)

    def _step(self) -> None:
        try:
            first = self._queue.get(timeout=0.1)
        except queue.Empty:
            return
        items = [first]
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        try:
            self.outputs["events"].send(np.array(items, dtype=self.dtype))
        except StreamError:
            if current_worker().stopping.is_set():
                return
            raise
        self.pushed += len(items)

    def _stop_device(self) -> None:
        """Send what was pushed before stop()."""
        self._kb_stop.set()
        items = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        if items and self.outputs["events"].configured:
            self.outputs["events"].send(np.array(items, dtype=self.dtype))
            self.pushed += len(items)
