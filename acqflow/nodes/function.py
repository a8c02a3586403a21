"""Function / Expression: a node from a user function (or numpy expression) array -> array."""
from __future__ import annotations

import logging
import time
from typing import Callable

import numpy as np

from ..dataflow.streams.spec import inherited_params
from ..dataflow import paramcheck as check
from ..dataflow.streams.spec import dtype_to_spec, make_dtype
from .base import StreamNode
from .safeexpr import ExpressionError, compile_expression

__all__ = ["Function", "Expression"]

log = logging.getLogger(__name__)
REPORT_EVERY_S = 10.0       # an Expression failing on every chunk logs one line this often


class Function(StreamNode):
    """Sends ``func(chunk)`` for each chunk; the function must keep the number of samples.

    Parameters: ``func`` (callable (time, ...) array -> (time, ...) array),
    ``output_params`` (dict of output params to force; by default dtype and
    shape come from calling ``func`` on two zero samples at connect time, and
    the stream type follows: 'video' for uint8 frames from a video input, else
    'analogsignal').  Gap policy: the function sees chunks as they come (gaps
    pass through as gaps); a stateful function should look at the indexes
    itself.  Delay: none.
    """

    _input_specs = {"input": {"streamtype": ("analogsignal", "digitalsignal", "video"),
                              "ndim": (2, 3, 4)}}
    _output_specs = {"output": {}}
    #: exceptions of ``func`` that drop the chunk (``_dropped``) instead of stopping the node
    _drops: tuple[type[Exception], ...] = ()

    def _configure(self, func: Callable[[np.ndarray], np.ndarray] | None = None,
                   output_params: dict | None = None) -> None:
        self.func = check.a_callable("func", func, " array -> array")
        self._forced = dict(output_params or {})

    def validate(self, input_params: dict) -> None:
        self._probe(input_params)

    def _probe(self, input_params: dict) -> dict:
        shape = tuple(input_params["shape"])
        zeros = np.zeros((2,) + shape[1:], make_dtype(input_params["dtype"]))
        try:
            out = np.asarray(self.func(zeros))
        except Exception as exc:
            raise ValueError(f"func raised {exc!r} on a chunk of shape {zeros.shape} "
                             f"dtype {zeros.dtype}") from None
        if out.ndim < 1 or out.shape[0] != 2:
            raise ValueError(f"func must keep the number of samples: 2 samples gave shape {out.shape}")
        kind = "video" if (input_params["streamtype"] == "video" and out.dtype == np.uint8
                           and out.ndim in (3, 4)) else "analogsignal"
        if kind == "analogsignal" and out.ndim != 2:
            raise ValueError(f"func output of shape {out.shape[1:]} per sample is neither a "
                             f"video frame nor a channel vector")
        return {"streamtype": kind, "dtype": dtype_to_spec(out.dtype), "shape": (-1,) + out.shape[1:]}

    def output_params(self, input_params: dict) -> dict:
        probed = self._probe(input_params)
        params = inherited_params(input_params, **probed)
        if probed["shape"] != tuple(input_params["shape"]):
            params.pop("channel_info", None)
        params.update(self._forced)
        return params

    def _initialize(self) -> None:
        params = self.outputs["output"].params
        self._out_dtype = make_dtype(params["dtype"])
        super()._initialize()

    def process(self, index: int, data: np.ndarray) -> np.ndarray | None:
        try:
            out = np.asarray(self.func(data))
        except self._drops as exc:
            self._dropped(index, exc)
            return None
        if out.shape[0] != data.shape[0]:
            raise ValueError(f"node {self.name!r}: func returned {out.shape[0]} samples for a chunk "
                             f"of {data.shape[0]}")
        return out if out.dtype == self._out_dtype else out.astype(self._out_dtype)

    def _dropped(self, index: int, exc: Exception) -> None:
        """What a chunk on which ``func`` raised one of ``_drops`` becomes: nothing (a gap)."""
        return None


class Expression(Function):
    """Function given as an array expression of ``x`` (e.g. ``"np.abs(x) * 2"``).

    A string travels to another process where a callable cannot.  It is checked
    by a restricted evaluator (:mod:`acqflow.nodes.safeexpr`): numbers, ``x``,
    arithmetic, comparisons, indexing and numpy functions from a fixed table; no
    attribute access, no builtins, so a graph file's expression cannot run code, and
    no intermediate larger than a bounded multiple of the chunk.  A chunk on which the
    expression fails (e.g. past that bound) is dropped (a gap downstream), counted in
    ``errors`` and reported in one log line (at most every ``REPORT_EVERY_S``).
    """

    _drops = (ExpressionError,)

    @classmethod
    def check_config(cls, params: dict) -> list[str]:
        """Problems with ``params`` found without creating the node (``acqflow run --check``)."""
        try:
            compile_expression(params.get("expr", "x"))
        except ExpressionError as exc:
            return [f"params.expr: {exc}"]
        return []

    def _configure(self, expr: str = "x",  # type: ignore[override]  # an expression, not a func
                   output_params: dict | None = None) -> None:
        try:
            func = compile_expression(expr)
        except ExpressionError as exc:
            raise (TypeError if not isinstance(expr, str) else ValueError)(str(exc)) from None
        self.expr = expr
        self.errors, self._reported = 0, -REPORT_EVERY_S
        super()._configure(func=func, output_params=output_params)

    def _dropped(self, index: int, exc: Exception) -> None:
        """Counts and reports (at most every REPORT_EVERY_S) a chunk the expression failed on."""
        self.errors += 1
        now = time.monotonic()
        if now - self._reported >= REPORT_EVERY_S:
            self._reported = now
            log.error("node %r: %s (chunk ending at %d dropped; %d so far)",
                      self.name, exc, index, self.errors)
