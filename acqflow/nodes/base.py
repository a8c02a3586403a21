"""Shared machinery of the processing nodes: input checks, gap detection, end-of-stream.

``StreamNode`` is a ``ProcessingNode`` that (1) refuses, at connect time, an input
of the wrong stream type, shape or dtype with a ValueError naming the node, the
input and the bad value, (2) tells ``on_gap(stop, start)`` when the input skips
samples, (3) builds its state in ``reset()`` once the input params are known and
(4) calls ``on_end()`` when the upstream output closes.
"""
from __future__ import annotations

import threading
from typing import Any, Sequence

import numpy as np

from ..dataflow.processing import ProcessingNode
from ..dataflow.spec import make_dtype
from ..dataflow.threadpoll import ThreadPollInput

__all__ = ["StreamNode", "check_input", "float_dtype", "seconds_to_samples"]


def check_input(node: Any, inputname: str, params: dict, *, streamtypes: Sequence[str] | None = None,
                ndim: int | Sequence[int] | None = None, dtype_kinds: str | None = None,
                dtypes: Sequence[str] | None = None, min_channels: int | None = None) -> None:
    """Raise ValueError naming node, input and bad value if ``params`` is not accepted."""
    where = f"node {node.name!r} input {inputname!r}"
    kind = params.get("streamtype")
    if streamtypes is not None and kind not in streamtypes:
        raise ValueError(f"{where}: streamtype {kind!r} is not accepted (needs {' or '.join(streamtypes)})")
    shape = params.get("shape")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if shape is None or len(shape) not in allowed:
            raise ValueError(f"{where}: shape {shape!r} is not accepted (needs a fixed "
                             f"{' or '.join(map(str, allowed))}-D shape, time first)")
    dt = make_dtype(params.get("dtype", "float32"))
    if dtype_kinds is not None and dt.kind not in dtype_kinds:
        raise ValueError(f"{where}: dtype {dt} is not accepted (needs a numeric dtype of kind "
                         f"{dtype_kinds!r})")
    if dtypes is not None and all(dt != make_dtype(d) for d in dtypes):
        raise ValueError(f"{where}: dtype {dt} is not accepted (needs {' or '.join(dtypes)})")
    if min_channels is not None and (shape is None or len(shape) < 2 or shape[1] < min_channels):
        raise ValueError(f"{where}: shape {shape!r} has fewer than {min_channels} channel(s)")


def float_dtype(params: dict) -> str:
    """Output dtype of a filter: the input's float dtype, float32 for integer input."""
    dt = make_dtype(params.get("dtype", "float32"))
    return dt.str if dt.kind == "f" else "<f4"


def seconds_to_samples(seconds: float, sample_rate: float) -> int:
    """Nearest whole number of samples in ``seconds``."""
    return int(round(float(seconds) * float(sample_rate)))


class _Poller(ThreadPollInput):
    """ThreadPollInput that reports end-of-stream to a callback."""

    on_closed = None

    def run(self) -> None:
        super().run()
        if self.closed and self.error is None and self.on_closed is not None:
            try:
                self.on_closed()
            except Exception as exc:   # reported like a processing error
                self.error = exc
                if self.on_error is not None:
                    self.on_error(f"{type(exc).__name__}: {exc}")


class StreamNode(ProcessingNode):
    """ProcessingNode with connect-time input checks, gap detection and a state lock.

    Subclasses set ``_accepts`` (keyword arguments of :func:`check_input`),
    override ``reset()`` (build state; input params known), ``process()``,
    optionally ``on_gap(stop, start)`` (default: ``reset()``), ``on_end()`` and
    ``output_index(index)`` (default: the input index; None lets the output count).
    ``process`` returns the chunk for this input chunk, or calls ``emit()`` any
    number of times (e.g. delayed output) and returns None.
    """

    _input_specs = {"input": {"streamtype": "analogsignal"}}     # checked by connect() and graphs
    _output_specs = {"output": {"streamtype": "analogsignal"}}
    _accepts: dict = {"streamtypes": ("analogsignal",), "ndim": 2, "dtype_kinds": "fiu"}

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self._lock = threading.RLock()
        self._expected: int | None = None
        self._emitted: list = []

    # -- connection ----------------------------------------------------------
    def check_input(self, inputname: str, params: dict) -> None:
        """Raise ValueError if the connected input cannot be processed."""
        check_input(self, inputname, params, **self._accepts)

    def validate(self, input_params: dict) -> None:
        """Check the configured parameters against the input (e.g. its sample rate)."""

    def after_input_connect(self, inputname: str) -> None:
        inp = self.inputs[inputname]
        try:
            self.check_input(inputname, inp.params)
            if self.configured():
                self._validate(inp.params)
                super().after_input_connect(inputname)
        except Exception:
            inp.close()            # refused: leave the input unconnected
            raise

    def configure(self, **kwargs) -> None:
        super().configure(**kwargs)
        inp = self.inputs["input"]
        if inp.connected:
            self._validate(inp.params)
            if not self.outputs["output"].configured:
                super().after_input_connect("input")   # output params depend on both

    def _validate(self, input_params: dict) -> None:
        try:
            self.validate(input_params)
        except ValueError as exc:
            raise ValueError(f"node {self.name!r}: {exc}") from None

    @property
    def input_params(self) -> dict:
        return self.inputs["input"].params

    @property
    def sample_rate(self) -> float:
        return float(self.input_params["sample_rate"])

    # -- processing ----------------------------------------------------------
    def reset(self) -> None:
        """(Re)build the processing state; called by initialize() and after gaps."""

    def on_gap(self, stop: int, start: int) -> None:
        """The input jumped from ``stop`` to ``start`` (samples lost); default: reset()."""
        self.reset()

    def on_end(self) -> None:
        """The upstream output closed (end of stream); may ``emit()`` a last chunk."""

    def output_index(self, index: int) -> int | None:
        return index

    def _initialize(self) -> None:
        super()._initialize()
        self._expected = None
        with self._lock:
            self.reset()

    def emit(self, data: np.ndarray, index: int | None) -> None:
        """Send ``data`` ending at output ``index`` (from process/on_gap/on_end)."""
        self._emitted.append((index, data))

    def feed(self, index: int, data: np.ndarray) -> list[tuple[int | None, np.ndarray]]:
        """Process one chunk as the worker does (gap detection included).

        Returns the ``(output index, chunk)`` pairs to send; used by the worker,
        the tests and the benchmark.
        """
        with self._lock:
            self._emitted = []
            start = index - len(data)
            if self._expected is not None and start != self._expected:
                self.on_gap(self._expected, start)
            self._expected = index
            out = self.process(index, data)
            if out is not None:
                self._emitted.append((self.output_index(index), out))
            emitted, self._emitted = self._emitted, []
        return emitted

    def finish(self) -> list[tuple[int | None, np.ndarray]]:
        """What ``on_end()`` emits (end of stream); used by the worker and tests."""
        with self._lock:
            self._emitted = []
            self.on_end()
            emitted, self._emitted = self._emitted, []
        return emitted

    def _handle(self, index: int, data: np.ndarray) -> None:
        for out_index, out in self.feed(index, data):
            self.outputs["output"].send(out, index=out_index)

    def _start(self) -> None:
        self._poller = _Poller(self.inputs["input"], return_data=True, name=f"{self.name} worker")
        self._poller.process_data = self._handle
        self._poller.on_error = self.set_error
        self._poller.on_closed = self._end
        self._poller.start()

    def _end(self) -> None:
        for out_index, out in self.finish():
            self.outputs["output"].send(out, index=out_index)
