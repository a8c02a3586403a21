"""pyacq's SosFilter: acqflow's SosFilter configured by ``coefficients`` (scipy second-order sections)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ....nodes.filters import SosFilter as _SosFilter
from ....nodes.filters import SosState
from ..core.states import PyacqStates
from ._names import alias_streams

__all__ = ["SosFilter", "HAVE_PYOPENCL", "sosfilter_engines", "ENGINES", "SosFilterEngine"]

#: pyacq's OpenCL engines are not provided: scipy.signal.sosfilt does the work.
HAVE_PYOPENCL = False
#: Engines accepted by ``configure(engine=...)``; both run scipy.signal.sosfilt.
ENGINES = ("scipy", "numpy")


class SosFilterEngine:
    """pyacq's engine API: ``Engine(coefficients, nb_channel, dtype, chunksize)``, then
    ``compute_one_chunk(pos, chunk)`` returns the filtered chunk (state kept across chunks)."""

    def __init__(self, coefficients: Any, nb_channel: int, dtype: Any, chunksize: int | None = None):
        self.state = SosState(np.asarray(coefficients, np.float64), int(nb_channel))
        self.dtype, self.chunksize = np.dtype(dtype), chunksize

    def compute_one_chunk(self, pos: int | None, chunk: np.ndarray) -> np.ndarray:
        return self.state(np.asarray(chunk)).astype(self.dtype)


sosfilter_engines = {name: SosFilterEngine for name in ENGINES}


def check_engine(node_name: str, engine: str) -> None:
    """Refuse an engine acqflow does not have (pyacq's OpenCL ones) with a clear message."""
    if engine not in ENGINES:
        raise ValueError(f"{node_name}: engine {engine!r} is not available (acqflow filters with "
                         f"scipy; use one of {', '.join(ENGINES)})")


class SosFilter(PyacqStates, _SosFilter):
    """Causal IIR filter; ``configure(coefficients, engine='scipy', chunksize=None)`` as pyacq's.

    ``coefficients`` is an (n_sections, 6) sos array (``scipy.signal.iirfilter(...,
    output='sos')``); ``chunksize`` is accepted and unused (acqflow filters any chunk
    size).  Streams: ``input``/``output``, also reachable as pyacq's ``signals``.
    """

    def __init__(self, name: str | None = None, **kwargs: Any):
        super().__init__(name=name)
        alias_streams(self, {"signals": "input"}, {"signals": "output"})

    def _configure(self, coefficients: Any = None, engine: str = "scipy", chunksize: int | None = None,  # type: ignore[override]  # pyacq's arguments
                   **kwargs: Any) -> None:
        check_engine(self.name, engine)
        if coefficients is not None:
            kwargs["sos"] = coefficients
        self.engine, self.chunksize = engine, chunksize
        super()._configure(**kwargs)

    @property
    def coefficients(self):
        return self.sos if self.sos is not None else self._design.get("sos")

    def set_coefficients(self, coefficients: Any) -> None:
        """pyacq's way to change the filter (also while running)."""
        self.set_params(sos=coefficients)
