"""Shared machinery of the processing nodes: gap detection, end-of-stream, validation.

``StreamNode`` is a ``ProcessingNode`` that (1) refuses, at connect time, an input
its ``_input_specs`` does not accept (stream type, shape, dtype: see
acqflow.dataflow.streams.inputcheck) with a ValueError naming the node, the input and the
bad value, (2) tells ``on_gap(stop, start)`` when the input skips
samples, (3) builds its state in ``reset()`` once the input params are known and
(4) calls ``on_end()`` when the upstream output closes.
"""
from __future__ import annotations

import threading

import numpy as np

from ..dataflow.graph.processing import ProcessingNode
from ..dataflow.streams.spec import make_dtype

__all__ = ["StreamNode", "float_dtype", "seconds_to_samples"]


def float_dtype(params: dict) -> str:
    """Output dtype of a filter: the input's float dtype, float32 for integer input."""
    dt = make_dtype(params.get("dtype", "float32"))
    return dt.str if dt.kind == "f" else "<f4"


def seconds_to_samples(seconds: float, sample_rate: float) -> int:
    """Nearest whole number of samples in ``seconds``."""
    return int(round(float(seconds) * float(sample_rate)))


class StreamNode(ProcessingNode):
    """ProcessingNode with connect-time input checks, gap detection and a state lock.

    Subclasses say what they accept in ``_input_specs`` (acqflow.dataflow.streams.inputcheck),
    override ``reset()`` (build state; input params known), ``process()``,
    optionally ``on_gap(stop, start)`` (default: ``reset()``), ``on_end()`` and
    ``output_index(index)`` (default: the input index; None lets the output count).
    ``process`` returns the chunk for this input chunk, or calls ``emit()`` any
    number of times (e.g. delayed output) and returns None.
    """

    # checked by connect() and graph files (acqflow.dataflow.streams.inputcheck)
    _input_specs: dict[str, dict] = {"input": {"streamtype": "analogsignal", "ndim": 2,
                                               "dtype_kinds": "fiu"}}
    _output_specs: dict[str, dict] = {"output": {"streamtype": "analogsignal"}}

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self._lock = threading.RLock()
        self._expected: int | None = None
        self._emitted: list = []

    # -- connection ----------------------------------------------------------
    def validate(self, input_params: dict) -> None:
        """Check the configured parameters against the input (e.g. its sample rate)."""

    def after_input_connect(self, inputname: str) -> None:
        self.check_input(inputname)                   # the _input_specs checks
        inp = self.inputs[inputname]
        try:
            if self._flag("configured"):
                self._validate(inp.params)
                self._derive_output()
        except Exception:
            inp.close()            # refused: leave the input unconnected
            raise

    def configure(self, **kwargs) -> None:
        super().configure(**kwargs)
        inp = self.inputs["input"]
        if inp.connected:
            self._validate(inp.params)
            if not self.outputs["output"].configured:
                self._derive_output()                  # output params depend on both

    def _validate(self, input_params: dict) -> None:
        try:
            self.validate(input_params)
        except ValueError as exc:
            raise ValueError(f"node {self.name!r}: {exc}") from None

    @property
    def input_params(self) -> dict:
        """Params of the connected ``input`` stream (dtype, shape, sample_rate...)."""
        return self.inputs["input"].params

    @property
    def sample_rate(self) -> float:
        """The input's sample rate (Hz)."""
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
        """The output index matching input ``index`` (None: the output counts its own samples);
        nodes that change the rate override it."""
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
        taken = self.inputs["input"].local_sample_time     # input sample index - 1, our clock
        for out_index, out in self.feed(index, data):
            self.outputs["output"].send(out, index=out_index,
                                        time=self._output_time(taken, index, out_index))

    def _samples_per_output(self) -> int | None:
        """``q`` when output sample ``k`` is input sample ``k * q`` (1 at the same rate;
        Decimate: its factor); None where the samples do not map so (another rate)."""
        rate = self.inputs["input"].params.get("sample_rate")
        return 1 if rate and self.outputs["output"].params.get("sample_rate") == rate else None

    def _output_time(self, taken: float | None, index: int, out_index: int | None) -> float | None:
        """When the last sample of an output chunk ending at ``out_index`` was taken, from
        ``taken`` (input sample ``index - 1``'s): output sample ``out_index - 1`` is input sample
        ``(out_index - 1) * q`` (_samples_per_output), that many input periods earlier; None
        (sent at now) where the node counts its own samples or its samples do not map."""
        if taken is None or out_index is None:
            return None
        if out_index == index:
            return taken
        q = self._samples_per_output()
        rate = self.inputs["input"].params.get("sample_rate")
        if q is None or not rate:
            return None
        return taken - ((index - 1) - (out_index - 1) * q) / float(rate)

    def _end(self) -> None:
        for out_index, out in self.finish():
            self.outputs["output"].send(out, index=out_index)
