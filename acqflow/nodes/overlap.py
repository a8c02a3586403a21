"""OverlapFiltfilt: zero-phase (forward-backward) filtering of a live stream, with a fixed latency.

The forward pass runs causally over the whole stream (as in SosFilter, started
like ``sosfiltfilt``: odd extension of the first samples, steady-state state).
The backward pass needs the future: each output block is filtered backwards
from ``margin`` samples beyond it, so a sample leaves ``margin`` to
``margin + block`` samples after it arrived.  The backward pass started early
is the only difference from ``sosfiltfilt`` on the whole signal, and it has
decayed below ``tol`` (relative to the response's peak) after ``margin``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..dataflow.streams.spec import inherited_params
from ..dataflow import paramcheck as check
from .base import StreamNode, float_dtype, seconds_to_samples
from .design import design_sos, impulse_length, scipy_signal
from .filters import _check_design

__all__ = ["OverlapFiltfilt", "FiltfiltState", "default_padlen"]


def default_padlen(sos: np.ndarray) -> int:
    """``padlen`` that ``scipy.signal.sosfiltfilt`` uses by default."""
    ntaps = 2 * len(sos) + 1
    ntaps -= min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    return 3 * ntaps


class FiltfiltState:
    """Chunked sosfiltfilt of one segment: ``push`` returns blocks, ``flush`` the tail."""

    def __init__(self, sos: np.ndarray, margin: int, block: int):
        self.sos = np.asarray(sos, np.float64)
        self.margin, self.block = int(margin), max(1, int(block))
        self.padlen = default_padlen(self.sos)
        self._zi_unit = scipy_signal().sosfilt_zi(self.sos)[:, :, None]
        self._raw: list[np.ndarray] = []      # input held until the forward pass can start
        self._raw_n = 0
        self._zi: np.ndarray | None = None    # forward state
        self._y = np.empty(0)                  # forward output from out_pos to the end (with _zi)
        self._tail = np.empty(0)               # last padlen+1 raw samples (right extension)
        self.out_pos = 0                       # samples of the segment already returned
        self.n = 0                             # samples of the segment received

    def push(self, x: np.ndarray) -> np.ndarray | None:
        """Add samples; returns the next finished block of output, if any (float64)."""
        self.n += len(x)
        if self._zi is None:
            self._raw.append(np.asarray(x, np.float64))
            self._raw_n += len(x)
            if self._raw_n <= self.padlen:
                return None
            x = np.concatenate(self._raw)
            self._raw, self._raw_n = [], 0
            ext = 2 * x[0] - x[self.padlen:0:-1]
            _, self._zi = scipy_signal().sosfilt(self.sos, ext, axis=0, zi=self._zi_unit * ext[0])
            self._y = np.empty((0,) + x.shape[1:])
            self._tail = x[:0]
        y, self._zi = scipy_signal().sosfilt(self.sos, x, axis=0, zi=self._zi)
        self._y = np.concatenate([self._y, y]) if len(self._y) else y
        self._tail = np.concatenate([self._tail, x])[-(self.padlen + 1):]
        if len(self._y) < self.margin + self.block:
            return None
        out = self._backward(self._y)[:len(self._y) - self.margin]
        self._y = self._y[len(out):]
        self.out_pos += len(out)
        return out

    def _backward(self, y: np.ndarray) -> np.ndarray:
        rev = y[::-1]
        out, _ = scipy_signal().sosfilt(self.sos, rev, axis=0, zi=self._zi_unit * rev[0])
        return out[::-1]

    def flush(self) -> np.ndarray | None:
        """Everything not yet returned, the segment's end handled as sosfiltfilt does."""
        if self.out_pos == self.n:
            return None
        if self._zi is None:                 # shorter than padlen: sosfiltfilt with less padding
            x = np.concatenate(self._raw)
            self._raw, self._raw_n = [], 0
            out = scipy_signal().sosfiltfilt(self.sos, x, axis=0, padlen=len(x) - 1)
        else:
            t = self._tail
            ext = 2 * t[-1] - t[-2::-1][:self.padlen]
            y_ext, _ = scipy_signal().sosfilt(self.sos, ext, axis=0, zi=self._zi)
            out = self._backward(np.concatenate([self._y, y_ext]))[:len(self._y)]
            self._y = self._y[:0]
        self.out_pos = self.n
        return out


class OverlapFiltfilt(StreamNode):
    """Zero-phase IIR filtering (sosfiltfilt) of a live stream, at a fixed latency.

    Filter parameters as SosFilter (``btype``, ``freq``, ``order``, ``ftype``,
    ``rp``, ``rs``, ``Q``, ``sos``); ``margin`` (s of look-ahead for the
    backward pass; None: where the impulse response has decayed below ``tol``,
    1e-7), ``block`` (s, smallest output block; None: = margin), ``dtype``.

    Delay: output samples keep their input indexes but are sent ``delay``
    (= margin) to ``max_latency`` (= margin + block) samples after the input
    sample arrived; both are attributes (samples) after initialize().
    Gap policy: the segment before a gap is finished as ``sosfiltfilt`` finishes
    a signal (odd extension) and sent; the next segment starts afresh, so each
    gap-free segment equals ``sosfiltfilt`` of that segment.  End of stream
    flushes the tail the same way.
    """

    warm_imports = ("scipy.signal",)

    def _configure(self, btype: str = "bandpass", freq: Any = None, order: int = 4,
                   ftype: str = "butter", rp: float = 1.0, rs: float = 40.0, Q: float = 30.0,
                   sos: Any = None, margin: float | None = None, block: float | None = None,
                   tol: float = 1e-7, dtype: str | None = None) -> None:
        design = dict(btype=btype, freq=freq, order=order, ftype=ftype, rp=rp, rs=rs, Q=Q, sos=sos)
        _check_design(design)
        for key, value in (("margin", margin), ("block", block)):
            if value is not None:
                check.positive_number(key, value, " s")
        if not 0 < check.finite_number("tol", tol) < 1:
            check.must_be("tol", "within (0, 1)", tol)
        self._design, self._margin_s, self._block_s = design, margin, block
        self.tol, self._dtype = float(tol), dtype
        self.delay: int | None = None
        self.max_latency: int | None = None

    def output_params(self, input_params: dict) -> dict:
        return inherited_params(input_params, dtype=self._dtype or float_dtype(input_params))

    def validate(self, input_params: dict) -> None:
        design_sos(float(input_params["sample_rate"]), **self._design)

    def _initialize(self) -> None:
        fs = self.sample_rate
        self.sos = design_sos(fs, **self._design)
        if self._margin_s is None:
            self.delay = max(impulse_length(self.sos, self.tol), default_padlen(self.sos) + 1)
        else:
            self.delay = max(1, seconds_to_samples(self._margin_s, fs))
        self.block = self.delay if self._block_s is None else max(1, seconds_to_samples(self._block_s, fs))
        self.max_latency = self.delay + self.block
        self._out_dtype = np.dtype(self.outputs["output"].params["dtype"])
        super()._initialize()

    @property
    def delay_s(self) -> float:
        """The look-ahead latency in seconds."""
        assert self.delay is not None, "the delay is known once initialized"
        return self.delay / self.sample_rate

    def reset(self) -> None:
        assert self.delay is not None        # (set by initialize())
        self._seg = FiltfiltState(self.sos, self.delay, self.block)
        self._seg_start: int | None = None

    def process(self, index: int, data: np.ndarray) -> None:
        if self._seg_start is None:
            self._seg_start = index - len(data)
        out = self._seg.push(data)
        if out is not None:
            self.emit(out.astype(self._out_dtype), self._seg_start + self._seg.out_pos)

    def _flush(self) -> None:
        if self._seg_start is not None:
            out = self._seg.flush()
            if out is not None:
                self.emit(out.astype(self._out_dtype), self._seg_start + self._seg.out_pos)

    def on_gap(self, stop: int, start: int) -> None:
        self._flush()
        self.reset()

    def on_end(self) -> None:
        self._flush()
