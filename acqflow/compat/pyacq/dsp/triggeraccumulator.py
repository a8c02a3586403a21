"""pyacq's TriggerAccumulator: a ring of signal sweeps around trigger events, set through ``params``."""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ....dataflow.eventplace import EventPlacer, on_signal_clock
from ....dataflow.node import Node
from ....dataflow.registry import register_node_type
from ....dataflow.threadpoll import Signal, ThreadPollInput
from ..core.states import PyacqStates
from ._params import make_params

__all__ = ["TriggerAccumulator", "ACCUMULATOR_PARAMS"]

ACCUMULATOR_PARAMS = [
    {"name": "left_sweep", "type": "float", "value": -1., "step": 0.1, "suffix": "s"},
    {"name": "right_sweep", "type": "float", "value": 1., "step": 0.1, "suffix": "s"},
    {"name": "stack_size", "type": "int", "value": 1, "limits": [1, np.inf]},
]


class TriggerAccumulator(PyacqStates, Node):
    """Keeps the last ``stack_size`` sweeps of ``signals`` around each event of ``events``.

    Inputs: ``signals`` (analogsignal) and ``events`` (int64 indexes, or a structured
    dtype whose ``events_dtype_field`` holds the index, e.g. acqflow's ``'index'``;
    markers with a ``time`` and index -1, as LSL's, land on the sample of that time, see
    ``acqflow.dataflow.eventplace``).
    ``stack`` is (stack_size, nb_channel, samples), a ring along axis 0 at
    ``stack_pos``; ``total_trig`` counts sweeps since the last ``reset_stack()``;
    ``new_chunk`` is emitted (with ``total_trig``) once a sweep is complete, i.e. when
    the signal reached ``right_sweep`` after the event.  Changing ``left_sweep``,
    ``right_sweep`` or ``stack_size`` in ``params`` rebuilds an empty stack.
    """

    _input_specs = {"signals": {"streamtype": "analogsignal"}, "events": {"streamtype": "event"}}
    _output_specs: dict = {}

    def __init__(self, name: str | None = None, **kwargs: Any):
        super().__init__(name=name)
        self.params = make_params("Accumulator options", ACCUMULATOR_PARAMS, self._params_changed)
        self.new_chunk = Signal()
        self._lock = threading.RLock()
        self.total_trig = 0
        self.stack_pos = 0            # where the next sweep goes (recreate_stack() sets up the stack)
        self._generation = 0          # +1 per new stack: a sweep read for an older one is dropped


    def _configure(self, max_stack_size: int = 10, max_xsize: float = 2.,
                   events_dtype_field: str | None = None) -> None:
        if not (isinstance(max_stack_size, (int, np.integer)) and max_stack_size >= 1) and \
                max_stack_size != np.inf:
            raise ValueError(f"{self.name}: max_stack_size must be an int >= 1 or inf, "
                             f"got {max_stack_size!r}")
        if not float(max_xsize) > 0:
            raise ValueError(f"{self.name}: max_xsize must be > 0 s, got {max_xsize!r}")
        self.max_stack_size = max_stack_size if max_stack_size == np.inf else int(max_stack_size)
        self.max_xsize = float(max_xsize)
        self.events_dtype_field = events_dtype_field
        self.params.param("stack_size").setLimits([1, self.max_stack_size])

    def after_input_connect(self, inputname: str) -> None:
        params = self.inputs[inputname].params
        if inputname == "signals":
            self.nb_channel = int(params["shape"][1])
            self.sample_rate = float(params["sample_rate"])
            return
        dt = np.dtype(params["dtype"]) if not isinstance(params["dtype"], list) else \
            np.dtype([tuple(f) for f in params["dtype"]])
        field = self.events_dtype_field if self.configured() else None
        if dt.names is None and field is not None:
            self.inputs[inputname].close()
            raise ValueError(f"{self.name}: events_dtype_field={field!r} but events dtype is {dt}")
        if dt.names is not None and field not in dt.names:
            self.inputs[inputname].close()
            raise ValueError(f"{self.name}: events dtype {dt} needs events_dtype_field (one of "
                             f"{', '.join(dt.names)}), got {field!r}")

    # -- life-cycle ----------------------------------------------------------
    def _initialize(self) -> None:
        size = max(2, int(self.sample_rate * self.max_xsize))
        self.inputs["signals"].set_buffer(size=size, double=True)
        self._pending: list[int] = []
        self._placer = EventPlacer(self.sample_rate)
        self.recreate_stack()

    def _start(self) -> None:
        self._trig_poller = ThreadPollInput(self.inputs["events"], return_data=True,
                                            name=f"{self.name} events", on_data=self.on_new_trig,
                                            on_error=self.set_error)
        self._sig_poller = ThreadPollInput(self.inputs["signals"], return_data=False,
                                           name=f"{self.name} signals", on_data=self._on_signals,
                                           on_error=self.set_error)
        for poller in (self._trig_poller, self._sig_poller):
            poller.start()

    def _stop(self) -> None:
        for poller in (self._trig_poller, self._sig_poller):
            poller.stop()
        for poller in (self._trig_poller, self._sig_poller):
            poller.join(5.0)

    # -- work ----------------------------------------------------------------
    def on_new_trig(self, trig_num: int, trig_indexes: np.ndarray) -> None:
        idx = trig_indexes if self.events_dtype_field is None else trig_indexes[self.events_dtype_field]
        with self._lock:
            if "time" in (trig_indexes.dtype.names or ()):        # markers: placed by their time
                times = on_signal_clock(self.inputs["events"], self.inputs["signals"],
                                        np.asarray(trig_indexes["time"], np.float64))
                placed = self._placer.add(np.asarray(idx, np.int64), times, [b""] * len(idx))
                idx = np.asarray([i for i, _ in placed], np.int64)
            self._pending.extend(int(i) + self.limit2 for i in idx)

    def _on_signals(self, pos: int, _data) -> None:
        with self._lock:
            placed = self._placer.signal(pos, self.inputs["signals"].last_sample_time)
            self._placer.forget_before(pos - int(self.sample_rate * self.max_xsize))
            self._pending.extend(i + self.limit2 for i, _ in placed)
            due = [limit for limit in self._pending if pos >= limit]
            if not due:
                return
            self._pending = [limit for limit in self._pending if pos < limit]
        for limit in due:
            self.on_limit_reached(limit)

    def on_limit_reached(self, limit_index: int) -> None:
        """The sweep ending at ``limit_index`` is in the buffer: put it in the stack."""
        with self._lock:
            size, generation = self.size, self._generation
        try:
            arr = self.inputs["signals"].get_data(limit_index - size, limit_index)
        except IndexError:              # already overwritten: the sweep is lost, not faked
            return
        with self._lock:
            if generation != self._generation:      # the stack was rebuilt meanwhile
                return
            self.stack[self.stack_pos] = np.asarray(arr).T
            self.stack_pos = (self.stack_pos + 1) % self.params["stack_size"]
            self.total_trig += 1
            total = self.total_trig
        self.new_chunk.emit(total)

    def recreate_stack(self) -> None:
        """An empty stack for the current left_sweep / right_sweep / stack_size."""
        with self._lock:
            self.limit1 = l1 = int(self.params["left_sweep"] * self.sample_rate)
            self.limit2 = l2 = int(self.params["right_sweep"] * self.sample_rate)
            self.size = l2 - l1
            self.t_vect = np.arange(self.size) / self.sample_rate + self.params["left_sweep"]
            self.stack = np.zeros((self.params["stack_size"], self.nb_channel, self.size),
                                  dtype=np.dtype(self.inputs["signals"].params["dtype"]))
            self.stack_pos = 0
            self.total_trig = 0
            self._pending = []
            self._generation = getattr(self, "_generation", 0) + 1

    def reset_stack(self) -> None:
        """Empty the stack (same size)."""
        with self._lock:
            self.stack[:] = 0
            self.stack_pos = 0
            self.total_trig = 0
            self._pending = []
            self._generation += 1

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
