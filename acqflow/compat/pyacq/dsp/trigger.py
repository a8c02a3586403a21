"""pyacq's AnalogTrigger / DigitalTrigger: acqflow's triggers with a ``params`` tree and int64 events.

pyacq's triggers send the crossing indexes as an ``events`` stream of int64 (shape
(-1,)), and are set through ``trigger.params['threshold'] = 1.`` (also while
running); acqflow's send labelled events (``index``, ``label``) and take the same
values in ``configure()``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ....nodes.triggers import AnalogTrigger as _AnalogTrigger
from ....nodes.triggers import DigitalTrigger as _DigitalTrigger
from ....nodes.triggers import EdgeDetector
from ....nodes.base import seconds_to_samples
from ..core.states import PyacqStates
from ._names import alias_streams
from ._params import make_params

if TYPE_CHECKING:                 # a mixin, always taken first by one of acqflow's triggers
    from ....nodes.triggers import _Trigger as _MixedInto
else:
    _MixedInto = object

__all__ = ["AnalogTrigger", "DigitalTrigger", "TRIGGER_PARAMS"]

#: pyacq's trigger parameters and defaults.
TRIGGER_PARAMS: list[dict[str, Any]] = [
    {"name": "channel", "type": "int", "value": 0},
    {"name": "threshold", "type": "float", "value": 0.},
    {"name": "front", "type": "list", "value": "+", "limits": ["+", "-"]},
    {"name": "debounce_mode", "type": "list", "value": "no-debounce",
     "limits": ["no-debounce", "after-stable", "before-stable"]},
    {"name": "debounce_time", "type": "float", "value": 0.01},
]


class _PyacqTrigger(PyacqStates, _MixedInto):
    """Mixin: pyacq's configure(max_size, emit_qt_signal), ``params`` tree, int64 event output."""

    _output_specs = {"output": {"streamtype": "event"}}
    _own_keys: tuple[str, ...]        # the trigger's settings in ``params`` (per class)

    def __init__(self, name: str | None = None, **kwargs: Any):
        super().__init__(name=name)
        alias_streams(self, {"signals": "input"}, {"events": "output"})
        self.params = make_params("Trigger options", TRIGGER_PARAMS, self._params_changed)

    def _configure(self, max_size: float = 2., emit_qt_signal: bool = False) -> None:
        self.max_size, self.emit_qt_signal = float(max_size), bool(emit_qt_signal)
        p = self.params
        kwargs = dict(channel=p["channel"], front=p["front"], debounce_time=p["debounce_time"],
                      debounce_mode=p["debounce_mode"])
        if "threshold" in self._own_keys:
            kwargs["threshold"] = p["threshold"]
        super()._configure(**kwargs)

    def output_params(self, input_params: dict) -> dict:
        return {"streamtype": "event", "dtype": "int64", "shape": (-1,),
                "sample_rate": float(input_params["sample_rate"])}

    def process(self, index: int, data: np.ndarray) -> np.ndarray | None:
        edges = self._edges.push(self.on_signal(data), index - len(data))
        return edges.astype(np.int64) if len(edges) else None

    def _params_changed(self, values: dict) -> None:
        """Apply new values at the next chunk; a bad one is refused and the tree set back."""
        if not self.configured():
            return                                  # configure() reads the tree
        with self._lock:
            old = {k: getattr(self, k) for k in self._own_keys}
            for key, value in values.items():
                if key in self._own_keys:
                    setattr(self, key, type(old[key])(value))
            if not 0 <= self.channel < self._n_channels():
                for k, v in old.items():
                    setattr(self, k, v)
                raise ValueError(f"channel {values.get('channel')!r} is not within the input's "
                                 f"{self._n_channels()} channels")
            if hasattr(self, "_edges"):
                d = seconds_to_samples(self.debounce_time, self.sample_rate)
                self._edges = EdgeDetector(0 if self.debounce_mode == "no-debounce" else d,
                                           self.debounce_mode)

    def _n_channels(self) -> int:
        inp = self.inputs["input"]
        if not inp.connected:
            return 1 << 30
        n = int(inp.params["shape"][1])
        return n * 8 if isinstance(self, DigitalTrigger) else n


class AnalogTrigger(_PyacqTrigger, _AnalogTrigger):  # type: ignore[misc]  # pyacq's configure arguments
    """Threshold crossings of one channel.

    ``params``: channel, threshold, front, debounce_mode, debounce_time."""

    _own_keys = ("channel", "threshold", "front", "debounce_mode", "debounce_time")


class DigitalTrigger(_PyacqTrigger, _DigitalTrigger):  # type: ignore[misc]  # pyacq's configure arguments
    """Changes of one bit (``channel``) of a uint8 stream; ``params`` as AnalogTrigger's (threshold unused).

    As pyacq's, the input may be an ``analogsignal`` of uint8 as well as a ``digitalsignal``.
    """

    _input_specs = {"input": {"streamtype": ("analogsignal", "digitalsignal"), "ndim": 2,
                              "dtypes": ("uint8",)}}

    _own_keys = ("channel", "front", "debounce_mode", "debounce_time")
