"""Epocher: cut [-pre, +post] windows of a signal around trigger events, keep a running average."""
from __future__ import annotations

import threading

import numpy as np

from ..dataflow.node import Node
from ..dataflow.registry import register_node_type
from ..dataflow.ringbuffer import RingBuffer
from ..dataflow.spec import make_dtype
from ..dataflow.threadpoll import ThreadPollInput
from .base import seconds_to_samples

__all__ = ["Epocher", "epoch_dtype"]


def epoch_dtype(n_samples: int, n_channels: int, dtype="float32") -> np.dtype:
    """Records of the epoch stream: trigger ``index``, ``label`` and the ``epoch`` window."""
    return np.dtype([("index", "int64"), ("label", "S16"),
                     ("epoch", make_dtype(dtype), (n_samples, n_channels))])


class Epocher(Node):
    """Trigger accumulator: one epoch per event, cut from the signal once its end has arrived.

    Inputs: ``signal`` (analogsignal (time, channels)) and ``events`` (an event
    stream with an ``index`` field in samples of the signal, e.g. a trigger's
    output, or of bare integer indexes as pyacq's triggers send; their label is b"").
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

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self._lock = threading.RLock()
        self.average: np.ndarray | None = None
        self.n_epochs = 0
        self.rejected = 0

    def _configure(self, pre: float = 0.1, post: float = 0.5, labels: list | None = None,
                   buffer_duration: float | None = None, max_pending: int = 10000) -> None:
        if not float(pre) >= 0 or not float(post) >= 0 or float(pre) + float(post) <= 0:
            raise ValueError(f"pre and post must be >= 0 s with pre + post > 0, got {pre!r}, {post!r}")
        if buffer_duration is not None and not float(buffer_duration) > 0:
            raise ValueError(f"buffer_duration must be > 0 s, got {buffer_duration!r}")
        self.pre, self.post = float(pre), float(post)
        self.labels = None if labels is None else {str(x).encode() if not isinstance(x, bytes) else x
                                                   for x in labels}
        self.buffer_duration = max(5.0, 2 * (self.pre + self.post)) if buffer_duration is None \
            else float(buffer_duration)
        self.max_pending = int(max_pending)

    def configure(self, **kwargs) -> None:
        super().configure(**kwargs)
        if self.inputs["signal"].connected:
            self._derive_output()

    # -- connection ----------------------------------------------------------
    def after_input_connect(self, inputname: str) -> None:
        super().after_input_connect(inputname)        # the _input_specs checks
        inp = self.inputs[inputname]
        try:
            if inputname == "signal":
                if self._flag("configured"):
                    self._derive_output()
            else:
                dt = make_dtype(inp.params["dtype"])
                fields = dt.fields or {}
                bare = dt.fields is None and dt.kind in "iu"        # bare indexes, as pyacq's triggers
                if not bare and ("index" not in fields or fields["index"][0].kind not in "iu"):
                    raise ValueError(f"node {self.name!r} input {inputname!r}: dtype "
                                     f"{inp.params['dtype']!r} has no integer 'index' field")
        except Exception:
            inp.close()
            raise

    def _derive_output(self) -> None:
        params = self.inputs["signal"].params
        fs = float(params["sample_rate"])
        self.n_pre, self.n_post = seconds_to_samples(self.pre, fs), seconds_to_samples(self.post, fs)
        if self.n_pre + self.n_post < 1:
            raise ValueError(f"node {self.name!r}: pre + post is shorter than one sample at {fs:g} Hz")
        dtype = make_dtype(params["dtype"])
        dtype = dtype if dtype.kind == "f" else np.dtype("float32")
        self._epoch_dtype = epoch_dtype(self.n_pre + self.n_post, params["shape"][1], dtype)
        spec = {"streamtype": "event", "shape": (-1,), "dtype": self._epoch_dtype.descr,
                "sample_rate": fs, "pre": self.pre, "post": self.post}
        for key in ("channel_info", "units"):
            if key in params:
                spec[key] = params[key]
        self.outputs["output"].spec.update(spec)

    # -- life-cycle ----------------------------------------------------------
    def _initialize(self) -> None:
        params = self.inputs["signal"].params
        fs = float(params["sample_rate"])
        n = self.n_pre + self.n_post
        size = max(seconds_to_samples(self.buffer_duration, fs), 2 * n, 1)
        self._ring = RingBuffer((size, params["shape"][1]), self._epoch_dtype["epoch"].base,
                                double=True)
        self._gaps: list[tuple[int, int]] = []
        self._expected: int | None = None
        self._pending: list[tuple[int, bytes]] = []
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
            self.average = np.zeros((n, self.inputs["signal"].params["shape"][1]))
            self.n_epochs = 0

    def _start(self) -> None:
        for name, handler in (("signal", self.on_signal), ("events", self.on_events)):
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
    def on_signal(self, index: int, data: np.ndarray) -> None:
        """A signal chunk: buffer it, then cut the epochs it completes."""
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
            self._cut()

    def on_events(self, index: int, events: np.ndarray) -> None:
        """An events chunk: queue each (selected) event until its window has arrived."""
        with self._lock:
            names = events.dtype.names or ()
            for idx, label in zip(events["index"].tolist() if names else events.tolist(),
                                  events["label"].tolist() if "label" in names
                                  else [b""] * len(events)):
                if self.labels is None or label in self.labels:
                    self._pending.append((int(idx), label))
            excess = len(self._pending) - self.max_pending
            if excess > 0:
                self._pending.sort()
                del self._pending[:excess]
                self.rejected += excess
            self._cut()

    def _cut(self) -> None:
        ring, head = self._ring, self._ring.index()
        ready, waiting = [], []
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
        for epoch in out["epoch"]:
            self.n_epochs += 1
            self.average += (epoch - self.average) / self.n_epochs
        if self.outputs["output"].configured:
            self.outputs["output"].send(out)


register_node_type(Epocher)
