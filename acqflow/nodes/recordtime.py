"""The fitted time model of a recorded stream, kept beside its raw stamps in the manifest.

The Recorder stores each chunk's raw time (its last sample's, on the source's clock) and
feeds the same stamps to a :class:`TimeModel`; every ``every`` seconds of stamps the fit is
noted as a history row ``[since, index, time, rate, jitter]`` (``since``: where the fit
began; a new one after a clock step, whose previous fit's last line is noted too), which
:mod:`acqflow.storage.streamtime` reads back as segments.
"""
from __future__ import annotations

import math
from typing import Any

from ..dataflow.inputstream import InputStream
from ..dataflow.paramcheck import must_be
from ..dataflow.shortrepr import short_repr
from ..dataflow.timemodel import TimeModel

__all__ = ["RecordedTimeModel"]

HISTORY_MAX = 20000       # rows kept; beyond, every other row is dropped (coverage kept)


class RecordedTimeModel:
    """Fits one input's raw chunk times; ``info`` is the manifest's ``time_model`` entry.
    ``update`` and ``note`` run in the thread that receives the input (not thread-safe)."""

    def __init__(self, inp: InputStream, every: float = 5.0):
        self.every = every
        self.model = None if inp.time_model is None else TimeModel(inp.time_model.nominal_rate)
        self.history: list[list] = []
        self.info: dict[str, Any] | None = None
        self._noted = -math.inf

    def update(self, index: int, t: float) -> None:
        """The chunk ending before ``index`` was taken at ``t`` (the source's clock)."""
        m = self.model
        if m is None:
            return
        m.update(index, t)      # (clock steps and gaps: the model finds them in the stamps)
        if abs(t - self._noted) > self.every:       # seconds of the stream's own stamps
            self._noted = t
            self.note()

    def note(self) -> None:
        """Add the current fit to the history and refresh ``info``."""
        m = self.model
        if m is None or not m.ready:
            return
        d = m.to_dict()
        while m.ended:                              # fits that clock steps ended meanwhile
            self._row(m.ended.popleft())
        self._row(d)
        self.info = dict(d, clock="source", history=list(self.history))

    def _row(self, d: dict[str, Any]) -> None:
        row = [d["since"], d["index"], d["time"], d["rate"], d["jitter"]]
        if not self.history or self.history[-1] != row:
            self.history.append(row)
            if len(self.history) > HISTORY_MAX:
                self.history[:] = self.history[::2]


_ALIGN_KEYS = ("lines", "reference", "barcodes", "same")


def check_align(align: Any, streams: list[str], node: str) -> dict[str, Any] | None:
    """A Recorder's ``align`` parameter checked against its streams (ValueError naming
    the bad value), as keyword arguments of ``align_recording``; None when not given."""
    if align is None:
        return None
    from ..storage.align import parse_line
    if not isinstance(align, dict) or set(align) - set(_ALIGN_KEYS):
        must_be(f"{node}: align", f"a dict with keys {', '.join(_ALIGN_KEYS)}", align)
    lines = align.get("lines")
    if not isinstance(lines, list) or len(lines) < 2 or not all(isinstance(x, str) for x in lines):
        must_be(f"{node}: align.lines", "a list of two or more 'STREAM:CHANNEL[:BIT]'", lines)
    for text in lines:
        name = parse_line(text)[0]
        if name not in streams:
            raise ValueError(f"{node}: align.lines: {text!r} names no recorded stream "
                             f"(streams: {', '.join(streams)})")
    reference = align.get("reference")
    if reference is not None and reference not in [parse_line(x)[0] for x in lines]:
        raise ValueError(f"{node}: align.reference {short_repr(reference)} has no sync line")
    same = align.get("same") or []
    if not isinstance(same, list) or not all(isinstance(x, str) for x in same):
        must_be(f"{node}: align.same", "a list of 'STREAM=LINESTREAM'", same)
    return {"lines": list(lines), "reference": reference,
            "barcodes": bool(align.get("barcodes", False)), "same": list(same)}
