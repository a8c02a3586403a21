"""AnalogTrigger / DigitalTrigger: threshold crossings with debounce, as an event stream.

Detection is vectorised (a boolean "on" signal and its transitions); the
debounce works on transition indexes only, so chunking never changes the result.
"""
from __future__ import annotations

import numpy as np

from ..dataflow.spec import EVENT_DTYPE, make_dtype
from ..dataflow import paramcheck as check
from .base import StreamNode, seconds_to_samples

__all__ = ["AnalogTrigger", "DigitalTrigger", "EdgeDetector", "DEBOUNCE_MODES"]

DEBOUNCE_MODES = ("no-debounce", "after-stable", "before-stable")
_NONE = np.iinfo(np.int64).min // 4     # "no transition yet", far enough from any index


class EdgeDetector:
    """Off->on transitions of a chunked boolean signal, debounced over ``debounce`` samples.

    * 'no-debounce': every off->on transition;
    * 'after-stable': a transition is kept if the signal then stays on for
      ``debounce`` samples (reported once that is known, ``debounce`` samples later);
    * 'before-stable': a transition is kept if the signal was stable (no
      transition either way) for the ``debounce`` samples before it.

    No edge is reported at the first sample (or the first after ``reset()``):
    what came before is unknown.
    """

    def __init__(self, debounce: int = 0, mode: str = "no-debounce"):
        if mode not in DEBOUNCE_MODES:
            raise ValueError(f"debounce_mode={mode!r} is not one of {', '.join(DEBOUNCE_MODES)}")
        self.debounce, self.mode = int(debounce), mode
        self.reset()

    def reset(self) -> None:
        self._prev: bool | None = None       # state of the last sample seen
        self._last = _NONE                   # index of the last transition (either way)
        self._pending = _NONE                # after-stable: rising edge waiting for confirmation

    def push(self, on: np.ndarray, start: int) -> np.ndarray:
        """Feed ``on`` (samples ``start`` ...); returns confirmed edge indexes (int64)."""
        on = np.asarray(on, bool)
        if not len(on):
            return np.zeros(0, np.int64)
        pos = np.flatnonzero(on[1:] != on[:-1]) + 1
        if self._prev is not None and on[0] != self._prev:
            pos = np.concatenate([[0], pos])
        self._prev = bool(on[-1])
        trans = pos.astype(np.int64) + start
        rising = on[pos]
        end, d = start + len(on), self.debounce
        if self.mode == "no-debounce":
            edges = trans[rising]
        elif self.mode == "before-stable":
            before = np.concatenate([[self._last], trans[:-1]])
            edges = trans[rising & (trans - before >= d)]
        else:
            edges = self._after_stable(trans, rising, end)
        if len(trans):
            self._last = int(trans[-1])
        return edges

    def _after_stable(self, trans: np.ndarray, rising: np.ndarray, end: int) -> np.ndarray:
        d = self.debounce
        kept = []
        if self._pending != _NONE:           # candidate from earlier chunks
            stop = int(trans[0]) if len(trans) else None
            if stop is not None:
                if stop - self._pending >= d:
                    kept.append(self._pending)
                self._pending = _NONE
            elif end - self._pending >= d:
                kept.append(self._pending)
                self._pending = _NONE
        nxt = np.concatenate([trans[1:], [np.iinfo(np.int64).max]])
        known = rising & (nxt != np.iinfo(np.int64).max)
        edges = trans[known & (nxt - trans >= d)]
        if len(trans) and rising[-1]:        # last edge of the chunk: still on at the end
            t = int(trans[-1])
            if end - t >= d:
                edges = np.concatenate([edges, [t]])
            else:
                self._pending = t
        return np.concatenate([np.asarray(kept, np.int64), edges.astype(np.int64)])


class _Trigger(StreamNode):
    """Common part: debounce parameters, event output, gap policy."""

    _output_specs = {"output": {"streamtype": "event"}}

    def _configure_trigger(self, front: str, debounce_time: float, debounce_mode: str,
                           label: str | None) -> None:
        check.one_of("+", "-")("front", front)
        check.one_of(*DEBOUNCE_MODES)("debounce_mode", debounce_mode)
        check.non_negative_number("debounce_time", debounce_time, " s")
        label = front if label is None else str(label)
        if len(label.encode()) > 16:
            raise ValueError(f"label {label!r} is longer than 16 bytes")
        self.front, self.debounce_time, self.debounce_mode = front, float(debounce_time), debounce_mode
        self.label = label.encode()

    def output_params(self, input_params: dict) -> dict:
        return {"streamtype": "event", "dtype": EVENT_DTYPE, "shape": (-1,),
                "sample_rate": float(input_params["sample_rate"])}

    def output_index(self, index: int) -> None:
        """None: the event output counts its own events, not input samples."""
        return None                            # the event stream counts events

    def _initialize(self) -> None:
        d = seconds_to_samples(self.debounce_time, self.sample_rate)
        self._edges = EdgeDetector(0 if self.debounce_mode == "no-debounce" else d, self.debounce_mode)
        self._dtype = make_dtype(EVENT_DTYPE)
        super()._initialize()

    def reset(self) -> None:
        self._edges.reset()

    def on_signal(self, data: np.ndarray) -> np.ndarray:
        """A boolean per sample of ``data``: the condition whose onsets are the trigger's events."""
        raise NotImplementedError

    def process(self, index: int, data: np.ndarray) -> np.ndarray | None:
        edges = self._edges.push(self.on_signal(data), index - len(data))
        if not len(edges):
            return None
        events = np.zeros(len(edges), self._dtype)
        events["index"] = edges
        events["label"] = self.label
        return events


class AnalogTrigger(_Trigger):
    """Events where one channel crosses ``threshold`` (absolute input sample indexes).

    Parameters: ``channel`` (0), ``threshold`` (0.0), ``front`` ('+': the first
    sample above after one at or below; '-': the first below after one at or
    above), ``debounce_time`` (s), ``debounce_mode`` ('no-debounce',
    'after-stable', 'before-stable'; see EdgeDetector), ``label`` (default the
    front).  Output: an event stream, ``index`` = the crossing's absolute input
    sample.  Delay: none, except 'after-stable' (events leave ``debounce_time``
    after the crossing).  Gap policy: reset; no edge is reported across a gap,
    and an 'after-stable' candidate not yet confirmed before the gap is dropped.
    """

    def _configure(self, channel: int = 0, threshold: float = 0.0, front: str = "+",
                   debounce_time: float = 0.0, debounce_mode: str = "no-debounce",
                   label: str | None = None) -> None:
        check.int_in("channel", channel, 0)
        self.channel, self.threshold = int(channel), float(threshold)
        self._configure_trigger(front, debounce_time, debounce_mode, label)

    def validate(self, input_params: dict) -> None:
        n = input_params["shape"][1]
        if self.channel >= n:
            raise ValueError(f"channel {self.channel} is not within the input's {n} channels")

    def on_signal(self, data: np.ndarray) -> np.ndarray:
        x = data[:, self.channel]
        return x > self.threshold if self.front == "+" else x < self.threshold


class DigitalTrigger(_Trigger):
    """Events where one bit of a digital (packed uint8) stream changes.

    ``channel`` is the bit number: bit ``channel % 8`` (LSB first) of byte
    ``channel // 8``; ``front`` '+' is 0 -> 1, '-' is 1 -> 0; debounce, output,
    delay and gap policy as AnalogTrigger.
    """

    _input_specs = {"input": {"streamtype": "digitalsignal", "ndim": 2, "dtypes": ("uint8",)}}

    def _configure(self, channel: int = 0, front: str = "+", debounce_time: float = 0.0,
                   debounce_mode: str = "no-debounce", label: str | None = None) -> None:
        check.int_in("channel", channel, 0)
        self.channel = int(channel)
        self._configure_trigger(front, debounce_time, debounce_mode, label)

    def validate(self, input_params: dict) -> None:
        n = input_params["shape"][1] * 8
        if self.channel >= n:
            raise ValueError(f"channel (bit) {self.channel} is not within the input's {n} bits")

    def on_signal(self, data: np.ndarray) -> np.ndarray:
        bit = (data[:, self.channel // 8] >> (self.channel % 8)) & 1
        return bit == 1 if self.front == "+" else bit == 0
