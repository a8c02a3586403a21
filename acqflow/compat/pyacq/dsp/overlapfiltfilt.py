"""pyacq's OverlapFiltfilt: acqflow's OverlapFiltfilt with ``coefficients`` and ``overlapsize`` (samples)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ....dataflow.paramcheck import int_in
from ....nodes.overlap import FiltfiltState
from ....nodes.overlap import OverlapFiltfilt as _OverlapFiltfilt
from ..core.states import PyacqStates
from ._names import alias_streams
from .sosfilter import ENGINES, HAVE_PYOPENCL, check_engine

__all__ = ["OverlapFiltfilt", "HAVE_PYOPENCL", "sosfiltfilt_engines", "SosFiltfiltEngine"]


class SosFiltfiltEngine:
    """pyacq's engine API: ``Engine(coefficients, nb_channel, dtype, chunksize, overlapsize)``;
    ``compute_one_chunk(pos, chunk)`` returns ``(pos, filtered)`` for the block now final
    (``pos`` its end index), or ``(None, None)``."""

    def __init__(self, coefficients: Any, nb_channel: int, dtype: Any, chunksize: int, overlapsize: int):
        self.state = FiltfiltState(np.asarray(coefficients, np.float64), overlapsize, chunksize)
        self.dtype, self.nb_channel = np.dtype(dtype), int(nb_channel)
        self._start: int | None = None

    def compute_one_chunk(self, pos: int, chunk: np.ndarray):
        chunk = np.asarray(chunk)
        if self._start is None:
            self._start = int(pos) - len(chunk)
        out = self.state.push(chunk)
        if out is None:
            return None, None
        return self._start + self.state.out_pos, out.astype(self.dtype)


sosfiltfilt_engines = {name: SosFiltfiltEngine for name in ENGINES}


class OverlapFiltfilt(PyacqStates, _OverlapFiltfilt):
    """Zero-phase filtering; ``configure(coefficients, engine='scipy', chunksize=None, overlapsize=None)``.

    ``overlapsize`` (samples) is the look-ahead of the backward pass (acqflow's
    ``margin``, in seconds there); None lets acqflow choose it from the filter's
    impulse response.  Output samples keep their input indexes, sent ``overlapsize``
    samples late at least, as pyacq's.
    """

    def __init__(self, name: str | None = None, **kwargs: Any):
        super().__init__(name=name)
        alias_streams(self, {"signals": "input"}, {"signals": "output"})

    def _configure(self, coefficients: Any = None, engine: str = "scipy", chunksize: int | None = None,  # type: ignore[override]  # pyacq's arguments
                   overlapsize: int | None = None, **kwargs: Any) -> None:
        check_engine(self.name, engine)
        if overlapsize is not None:
            int_in(f"{self.name}: overlapsize (samples)", overlapsize)
        if coefficients is not None:
            kwargs["sos"] = coefficients
        self.engine, self.chunksize, self.overlapsize = engine, chunksize, overlapsize
        super()._configure(**kwargs)

    def _initialize(self) -> None:
        if self.overlapsize is not None:
            self._margin_s = self.overlapsize / self.sample_rate
        super()._initialize()
        if self.overlapsize is not None:
            self.delay = self.overlapsize          # exactly, whatever the rounding of seconds
            self.block = self.delay if self._block_s is None else self.block
            self.max_latency = self.delay + self.block
            self.reset()
