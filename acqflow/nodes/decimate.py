"""Decimate / Resample: anti-aliased down-sampling by an integer factor, on absolute indexes."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..dataflow.streams.spec import inherited_params
from ..dataflow import paramcheck as check
from .base import StreamNode, float_dtype
from .design import design_sos
from .filters import SosState

__all__ = ["Decimate", "Resample", "antialias_sos"]


def antialias_sos(factor: int, order: int = 8, ftype: str = "cheby1", rp: float = 0.05,
                  rs: float = 60.0) -> np.ndarray:
    """Low-pass at 0.8 x the new Nyquist frequency (``scipy.signal.decimate``'s IIR default)."""
    return design_sos(2.0 * factor, btype="lowpass", freq=0.8, order=order, ftype=ftype, rp=rp, rs=rs)


class Decimate(StreamNode):
    """Low-pass filter (causal IIR, state across chunks) then keep one sample in ``factor``.

    Parameters: ``factor`` (int >= 1), ``order`` (8), ``ftype`` ('cheby1', as
    ``scipy.signal.decimate``; or 'butter', 'ellip', ...), ``rp``/``rs``, or an
    explicit ``sos``; ``init`` ('zeros' | 'steady'); ``dtype``.

    Indexes: the input sample with absolute index ``k * factor`` becomes output
    sample ``k`` (so the output is ``decimate(x, factor, zero_phase=False)`` of the
    whole stream and its start time is the input's); output ``sample_rate`` is
    the input's / factor.  Delay: the anti-alias filter's group delay (causal).
    Gap policy: reset; the filter restarts (``init``) after a gap, and the gap
    maps to a gap of the output (indexes stay absolute).
    """

    warm_imports = ("scipy.signal",)

    def _configure(self, factor: int = 2, order: int = 8, ftype: str = "cheby1", rp: float = 0.05,
                   rs: float = 60.0, sos: Any = None, init: str = "zeros",
                   dtype: str | None = None) -> None:
        check.int_in("factor", factor)
        check.one_of("zeros", "steady")("init", init)
        self.factor = int(factor)
        self._filter: dict[str, Any] = dict(order=order, ftype=ftype, rp=rp, rs=rs)
        self._sos_given = None if sos is None else design_sos(1.0, sos=sos)
        self.init, self._dtype = init, dtype

    def _factor_for(self, input_params: dict) -> int:
        return self.factor

    def output_params(self, input_params: dict) -> dict:
        q = self._factor_for(input_params)
        return inherited_params(input_params, dtype=self._dtype or float_dtype(input_params),
                                sample_rate=float(input_params["sample_rate"]) / q)

    def validate(self, input_params: dict) -> None:
        q = self._factor_for(input_params)
        if self._sos_given is None and q > 1:
            antialias_sos(q, **self._filter)

    def _initialize(self) -> None:
        self.q = self._factor_for(self.input_params)
        self.sos: np.ndarray | None
        if self._sos_given is not None:
            self.sos = self._sos_given
        elif self.q > 1:
            self.sos = antialias_sos(self.q, **self._filter)
        else:
            self.sos = None
        self._out_dtype = np.dtype(self.outputs["output"].params["dtype"])
        super()._initialize()

    def reset(self) -> None:
        n_ch = self.input_params["shape"][1]
        self._state = None if self.sos is None else SosState(self.sos, n_ch, self.init)

    def output_index(self, index: int) -> int:
        """Output samples up to input ``index``: one every ``q`` input samples."""
        return -(-index // self.q)

    def _samples_per_output(self) -> int:
        """Output sample ``k`` is input sample ``k * q``."""
        return self.q

    def process(self, index: int, data: np.ndarray) -> np.ndarray | None:
        start = index - len(data)
        y = data if self._state is None else self._state(data)
        out = y[(-start) % self.q::self.q]
        if not len(out):
            return None
        return np.ascontiguousarray(out, dtype=self._out_dtype)


class Resample(Decimate):
    """Decimate to a target ``sample_rate`` (an integer fraction of the input's).

    Same parameters as Decimate, with ``sample_rate`` instead of ``factor``; a
    rate that does not divide the input's raises ValueError at connect time.
    """

    def _configure(self, sample_rate: float = 1000.0, order: int = 8,
                   ftype: str = "cheby1", rp: float = 0.05, rs: float = 60.0, sos: Any = None,
                   init: str = "zeros", dtype: str | None = None) -> None:
        check.positive_number("sample_rate", sample_rate)
        super()._configure(order=order, ftype=ftype, rp=rp, rs=rs, sos=sos, init=init, dtype=dtype)
        self.target_rate = float(sample_rate)

    def _factor_for(self, input_params: dict) -> int:
        fs = float(input_params["sample_rate"])
        q = fs / self.target_rate
        if abs(q - round(q)) > 1e-9 * q or round(q) < 1:
            raise ValueError(f"sample_rate={self.target_rate:g} does not divide the input's "
                             f"sample rate {fs:g} by an integer")
        return int(round(q))
