"""pyacq's TriggerAccumulator: acqflow's Epocher keeping its last sweeps in a stack, set through ``params``."""
from __future__ import annotations

import threading
from typing import Any

import numpy as np
from numpy.lib.recfunctions import rename_fields

from ....dataflow.streams.eventplace import epoch_dtype
from ....dataflow.graph.node import Node
from ....dataflow.graph.registry import register_node_type
from ....dataflow.streams.spec import make_dtype
from ....dataflow.streams.threadpoll import Signal
from ....nodes.epochs import Epocher
from ..core.states import PyacqStates
from ._params import make_params

__all__ = ["TriggerAccumulator", "ACCUMULATOR_PARAMS"]

ACCUMULATOR_PARAMS = [
    {"name": "left_sweep", "type": "float", "value": -1., "step": 0.1, "suffix": "s"},
    {"name": "right_sweep", "type": "float", "value": 1., "step": 0.1, "suffix": "s"},
    {"name": "stack_size", "type": "int", "value": 1, "limits": [1, np.inf]},
]


class TriggerAccumulator(PyacqStates, Epocher):
    """Keeps the last ``stack_size`` sweeps of ``signals`` around each event of ``events``.

    An Epocher (its input ``signal`` named ``signals``, no output) whose window is
    [``left_sweep``, ``right_sweep``) s around the event (either may be negative or
    positive); events are int64 indexes, or a structured dtype whose ``events_dtype_field``
    holds the index, or markers placed by their ``time`` (see Epocher).
    ``stack`` is (stack_size, nb_channel, samples), a ring along axis 0 at
    ``stack_pos``; ``total_trig`` counts sweeps since the last ``reset_stack()``;
    ``new_chunk`` is emitted (with ``total_trig``, in the reading thread) once a sweep is
    complete.  Changing ``left_sweep``, ``right_sweep`` or ``stack_size`` in ``params``
    rebuilds an empty stack; ``max_xsize`` (s) is the signal kept for sweeps.
    """

    _input_specs = {"signals": Epocher._input_specs["signal"], "events": {"streamtype": "event"}}
    _output_specs: dict = {}
    _signal_input = "signals"

    def __init__(self, name: str | None = None, **kwargs: Any):
        super().__init__(name=name)
        self.params = make_params("Accumulator options", ACCUMULATOR_PARAMS, self._params_changed)
        self.new_chunk = Signal()
        self._emit_lock = threading.Lock()         # new_chunk's totals go out in order
        self.stack_pos = 0            # where the next sweep goes (recreate_stack() sets up the stack)
        self._totals: list[int] = []
        self.total_trig = 0

    def _configure(self, max_stack_size: int = 10, max_xsize: float = 2.,  # type: ignore[override]  # pyacq's arguments
                   events_dtype_field: str | None = None) -> None:
        if not (isinstance(max_stack_size, (int, np.integer)) and max_stack_size >= 1) and \
                max_stack_size != np.inf:
            raise ValueError(f"{self.name}: max_stack_size must be an int >= 1 or inf, "
                             f"got {max_stack_size!r}")
        if not float(max_xsize) > 0:
            raise ValueError(f"{self.name}: max_xsize must be > 0 s, got {max_xsize!r}")
        super()._configure(buffer_duration=float(max_xsize))
        self.max_stack_size = max_stack_size if max_stack_size == np.inf else int(max_stack_size)
        self.max_xsize = float(max_xsize)
        self.events_dtype_field = events_dtype_field
        self.params.param("stack_size").setLimits([1, self.max_stack_size])

    def after_input_connect(self, inputname: str) -> None:
        if inputname == self._signal_input:
            super().after_input_connect(inputname)       # Epocher's checks
            params = self.inputs[inputname].params
            self.nb_channel = int(params["shape"][1])
            self.sample_rate = float(params["sample_rate"])
            return
        Node.after_input_connect(self, inputname)          # the _input_specs checks
        dt = make_dtype(self.inputs[inputname].params["dtype"])
        field = self.events_dtype_field if self.configured() else None
        if dt.names is None and field is not None:
            self.inputs[inputname].close()
            raise ValueError(f"{self.name}: events_dtype_field={field!r} but events dtype is {dt}")
        if dt.names is not None and field not in dt.names:
            self.inputs[inputname].close()
            raise ValueError(f"{self.name}: events dtype {dt} needs events_dtype_field (one of "
                             f"{', '.join(dt.names)}), got {field!r}")

    def _derive_output(self) -> None:
        """The epoch window from ``left_sweep`` / ``right_sweep`` (pyacq's rounding)."""
        params = self.inputs[self._signal_input].params
        fs = float(params["sample_rate"])
        l1, l2 = int(self.params["left_sweep"] * fs), int(self.params["right_sweep"] * fs)
        self.n_pre, self.n_post = -l1, l2
        self._epoch_dtype = epoch_dtype(l2 - l1, int(params["shape"][1]), make_dtype(params["dtype"]))
        self.limit1, self.limit2, self.size = l1, l2, l2 - l1
        self.t_vect = np.arange(self.size) / fs + self.params["left_sweep"]

    def _initialize(self) -> None:
        super()._initialize()
        self.recreate_stack()

    # -- the epochs go to the stack ------------------------------------------
    def on_signal(self, index: int, data: np.ndarray, t: float | None = None) -> None:
        super().on_signal(index, data, t)
        self._emit_new_chunks()

    def on_events(self, index: int, events: np.ndarray) -> None:
        field = self.events_dtype_field
        if field is not None and field != "index":       # the index under acqflow's name
            events = rename_fields(events, {field: "index"})
        super().on_events(index, events)
        self._emit_new_chunks()

    def _emit(self, epochs: np.ndarray) -> None:
        for epoch in epochs["epoch"]:
            self.stack[self.stack_pos] = epoch.T
            self.stack_pos = (self.stack_pos + 1) % self.params["stack_size"]
            self.total_trig += 1
            self._totals.append(self.total_trig)

    def _emit_new_chunks(self) -> None:
        """``new_chunk(total_trig)`` for each sweep stacked, outside the data lock, in order."""
        with self._emit_lock:
            with self._lock:
                totals, self._totals = self._totals, []
            for total in totals:
                self.new_chunk.emit(total)

    def recreate_stack(self) -> None:
        """An empty stack for the current left_sweep / right_sweep / stack_size."""
        with self._lock:
            self._derive_output()
            self.stack = np.zeros((self.params["stack_size"], self.nb_channel, self.size),
                                  dtype=self._epoch_dtype["epoch"].base)
            self.reset_stack()

    def reset_stack(self) -> None:
        """Empty the stack (same size); events waiting for their signal are forgotten."""
        with self._lock:
            self.stack[:] = 0
            self.stack_pos = 0
            self.total_trig = 0
            self._pending = []
            self._totals = []

    def _params_changed(self, values: dict) -> None:
        if self.params["left_sweep"] >= self.params["right_sweep"]:
            raise ValueError(f"{self.name}: left_sweep must be < right_sweep, got "
                             f"{self.params['left_sweep']} and {self.params['right_sweep']}")
        if set(values) & {"stack_size", "left_sweep", "right_sweep"} and self.initialized():
            if (self.params["right_sweep"] - self.params["left_sweep"]) > self.max_xsize:
                sweep = self.params["right_sweep"] - self.params["left_sweep"]
                raise ValueError(f"{self.name}: sweep of {sweep} s "
                                 f"is longer than max_xsize={self.max_xsize} s")
            self.recreate_stack()


register_node_type(TriggerAccumulator)
