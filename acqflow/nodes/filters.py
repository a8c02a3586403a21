"""SosFilter: a causal IIR filter whose state runs across chunks (equals sosfilt on the whole)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..dataflow.paramcheck import did_you_mean, non_negative_number
from ..dataflow.streams.spec import inherited_params
from ..dataflow.streams.ringbuffer import RingBuffer
from .base import StreamNode, float_dtype, seconds_to_samples
from .design import BTYPES, check_design, design_sos, scipy_signal

__all__ = ["SosFilter", "SosState"]

_DESIGN_KEYS = ("btype", "freq", "order", "ftype", "rp", "rs", "Q", "sos")


class SosState:
    """sosfilt over a chunked signal: keeps ``zi`` so chunks join seamlessly."""

    def __init__(self, sos: np.ndarray, n_channels: int, init: str = "zeros"):
        if init not in ("zeros", "steady"):
            raise ValueError(f"init={init!r} is not one of 'zeros', 'steady'")
        self.sos = np.asarray(sos, np.float64)
        self.n_channels = n_channels
        self.init = init
        self.zi: np.ndarray | None = None

    def initial_state(self, first: np.ndarray) -> np.ndarray:
        """State for a signal that starts with sample ``first``."""
        if self.init == "steady":
            return scipy_signal().sosfilt_zi(self.sos)[:, :, None] * np.asarray(first, np.float64)[None, None, :]
        return np.zeros((len(self.sos), 2, self.n_channels))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Filter chunk ``x`` (time, channels), continuing from the previous chunk; float64."""
        if len(x) == 0:
            return np.zeros(x.shape, np.float64)
        if self.zi is None:
            self.zi = self.initial_state(x[0])
        y, self.zi = scipy_signal().sosfilt(self.sos, x, axis=0, zi=self.zi)
        return y

    def warm_up(self, history: np.ndarray) -> None:
        """Set the state as if the filter had been running over ``history``."""
        if len(history) == 0:
            self.zi = None
            return
        saved, self.init = self.init, "steady"
        self.zi = self.initial_state(history[0])
        self.init = saved
        _, self.zi = scipy_signal().sosfilt(self.sos, history, axis=0, zi=self.zi)


class SosFilter(StreamNode):
    """Causal IIR filter (scipy second-order sections), state kept across chunks.

    Parameters (``configure`` and, while running, ``set_params``): ``btype``
    ('lowpass', 'highpass', 'bandpass', 'bandstop', 'notch'), ``freq`` (Hz; [low,
    high] for band filters), ``order`` (4), ``ftype`` ('butter', 'cheby1', ...,
    with ``rp``/``rs``), ``Q`` (notch), or an explicit ``sos`` array; ``init``
    ('zeros' like scipy, or 'steady': start in the steady state of the first
    sample); ``warmup`` (s of input kept to warm a changed filter up); ``dtype``.

    Gap policy: reset; after a gap the state restarts as at the beginning (``init``).
    Delay: none added (the output sample at index i is the filter's output for
    input sample i; the filter's own group delay is the filter's).
    """

    warm_imports = ("scipy.signal",)

    def _configure(self, btype: str = "bandpass", freq: Any = None, order: int = 4,
                   ftype: str = "butter", rp: float = 1.0, rs: float = 40.0, Q: float = 30.0,
                   sos: Any = None, init: str = "zeros", warmup: float = 1.0,
                   dtype: str | None = None) -> None:
        design = dict(btype=btype, freq=freq, order=order, ftype=ftype, rp=rp, rs=rs, Q=Q, sos=sos)
        _check_design(design)
        if init not in ("zeros", "steady"):
            raise ValueError(f"init={init!r} is not one of 'zeros', 'steady'")
        non_negative_number("warmup", warmup, " s")
        self._design, self.init, self.warmup, self._dtype = design, init, float(warmup), dtype
        self._sos: np.ndarray | None = None
        self._state: SosState | None = None

    def output_params(self, input_params: dict) -> dict:
        return inherited_params(input_params, dtype=self._dtype or float_dtype(input_params))

    def validate(self, input_params: dict) -> None:
        d = self._design
        check_design(float(input_params["sample_rate"]), d["btype"], d["freq"], d["order"], d["ftype"], d["sos"])

    @property
    def sos(self) -> np.ndarray | None:
        """The second-order sections in use (None before initialize())."""
        return self._sos

    def _initialize(self) -> None:
        self._sos = design_sos(self.sample_rate, **self._design)
        self._out_dtype = np.dtype(self.outputs["output"].params["dtype"])
        n_ch = self.input_params["shape"][1]
        size = seconds_to_samples(self.warmup, self.sample_rate)
        self._history = RingBuffer((size, n_ch), self.input_params["dtype"], double=False) if size else None
        super()._initialize()

    def reset(self) -> None:
        assert self._sos is not None     # (designed by initialize())
        self._state = SosState(self._sos, self.input_params["shape"][1], self.init)
        self._last: np.ndarray | None = None
        if self._history is not None:
            self._history.reset_index(self._history.index())

    def set_params(self, **params) -> None:
        """Change the filter, also while running: applied at the next chunk boundary.

        The new filter is warmed up on the last ``warmup`` seconds of input (with
        ``warmup=0``: started in the steady state of the last sample), so the
        output continues without a step: only the new filter's transient remains
        (none once it is shorter than ``warmup``).  Bad values raise ValueError and
        leave the running filter unchanged.
        """
        unknown = set(params) - set(_DESIGN_KEYS)
        if unknown:
            raise TypeError(f"{self.name}: set_params() takes no parameter {', '.join(map(repr, sorted(unknown)))}")
        design = {**self._design, **params}
        if "sos" not in params and params:
            design["sos"] = None            # new design parameters replace an explicit sos
        _check_design(design)
        if self._sos is None:              # not initialized yet: configure-time change
            self._design = design
            return
        sos = design_sos(self.sample_rate, **design)
        with self._lock:
            self._design, self._sos = design, sos
            assert self._state is not None       # (initialized: it has a state)
            state = SosState(sos, self._state.n_channels, self.init)
            hist = self._history
            if hist is not None and hist.index() > hist.first_index():
                state.warm_up(np.asarray(hist[hist.first_index():hist.index()], np.float64))
            elif self._last is not None:        # no history: steady state of the last sample
                state.init = "steady"
                state.zi = state.initial_state(self._last)
                state.init = self.init
            self._state = state

    def process(self, index: int, data: np.ndarray) -> np.ndarray:
        assert self._state is not None
        y = self._state(data)
        if len(data):
            self._last = np.array(data[-1], np.float64)
        if self._history is not None and len(data):
            keep = data[-self._history.size:]
            self._history.new_chunk(keep, index)
        return y.astype(self._out_dtype, copy=False)


def _check_design(design: dict) -> None:
    """Validate what can be checked without the sample rate."""
    if design.get("sos") is not None:
        design_sos(1.0, sos=design["sos"])
    elif design.get("btype") not in BTYPES:
        raise ValueError(f"btype={design.get('btype')!r} is not one of {', '.join(BTYPES)}"
                         f"{did_you_mean(design.get('btype'), BTYPES)}")
    elif design.get("freq") is None:
        raise ValueError(f"btype={design['btype']!r} needs freq (Hz)")
