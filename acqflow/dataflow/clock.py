"""The one clock every chunk timestamp comes from, and offsets to other hosts' clocks.

Streams stamp each chunk with :func:`now` (seconds since the epoch, float) and
publish :func:`clock_id` in their params (``params['clock_id']``), so a receiver
knows which clock a timestamp is on.

Offsets table: ``set_offsets()`` stores, per clock id, an estimate of that clock
relative to a common reference clock (the Manager's), pushed by the Manager's
clock synchronisation (``acqflow.rpc.clocksync``).  :func:`to_local` converts a
timestamp from any clock in the table to this process's clock:
``local = remote - offset(remote vs local)``.  Nothing here imports rpc.

Test hook (tests only, never in production): ``ACQFLOW_CLOCK_OFFSET=SECONDS``
in a process's environment adds a constant to its :func:`now`, simulating a
host whose clock is off; ``ACQFLOW_CLOCK_ID`` overrides :func:`clock_id`.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass

__all__ = ["now", "monotonic_now", "clock_id", "ClockEstimate", "set_offsets", "offsets", "offset_to", "relative",
           "to_local", "TEST_OFFSET", "ENV_OFFSET", "ENV_ID", "SenderClock"]

ENV_OFFSET = "ACQFLOW_CLOCK_OFFSET"
ENV_ID = "ACQFLOW_CLOCK_ID"


def _test_offset() -> float:
    raw = os.environ.get(ENV_OFFSET, "").strip()
    if not raw:
        return 0.0
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"${ENV_OFFSET}={raw!r} is not a number of seconds") from None


TEST_OFFSET: float = _test_offset()
"""The constant added to :func:`now` by ``$ACQFLOW_CLOCK_OFFSET`` (test hook; 0.0 normally)."""

if TEST_OFFSET:
    def now() -> float:
        """time.time() plus the test offset from $ACQFLOW_CLOCK_OFFSET."""
        return time.time() + TEST_OFFSET
else:
    now = time.time


_MONOTONIC_ANCHOR = now() - time.monotonic()


def monotonic_now() -> float:
    """:func:`now`'s timeline without its steps: ``now()`` at import plus ``time.monotonic()``
    since.  For stamps whose intervals must be exact (a camera's frames): a wall clock set
    or stepped meanwhile (NTP, a resumed VM, ``date -s``) moves ``now()`` but not these."""
    return time.monotonic() + _MONOTONIC_ANCHOR


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()[:8]
    except OSError:
        return "noboot"


def _make_clock_id() -> str:
    explicit = os.environ.get(ENV_ID, "").strip()
    if explicit:
        return explicit
    cid = f"{socket.gethostname()}/{_boot_id()}"
    if TEST_OFFSET:
        cid += f"{TEST_OFFSET:+g}s"     # a process with a simulated offset is another clock
    return cid


_CLOCK_ID = _make_clock_id()


def clock_id() -> str:
    """Identifies the clock :func:`now` reads: host name and boot (plus any test offset)."""
    return _CLOCK_ID


@dataclass(frozen=True)
class ClockEstimate:
    """A clock relative to a reference: ``clock - reference = offset + drift * (t - t_ref)``
    (``t`` in seconds on the reference clock), known to within ``uncertainty`` s."""
    offset: float
    uncertainty: float
    drift: float = 0.0
    t_ref: float = 0.0

    def at(self, t: float) -> float:
        """The offset at reference time ``t``."""
        return self.offset + self.drift * (t - self.t_ref)

    def as_dict(self) -> dict:
        return {"offset": self.offset, "uncertainty": self.uncertainty, "drift": self.drift,
                "t_ref": self.t_ref}


_lock = threading.Lock()
_table: dict[str, ClockEstimate] = {}


def set_offsets(table: dict[str, dict | ClockEstimate], reference: str | None = None) -> None:
    """Replace the offsets table: clock id -> estimate (or its dict form) relative to
    the clock ``reference`` (which gets offset 0)."""
    new = {}
    for cid, est in table.items():
        if isinstance(est, dict):
            est = ClockEstimate(float(est["offset"]), float(est["uncertainty"]),
                                float(est.get("drift", 0.0)), float(est.get("t_ref", 0.0)))
        new[str(cid)] = est
    if reference is not None:
        new[str(reference)] = ClockEstimate(0.0, 0.0)
    global _table
    with _lock:
        _table = new


def offsets() -> dict[str, dict]:
    """The offsets table as plain dicts (clock id -> offset, uncertainty, drift, t_ref)."""
    with _lock:
        return {cid: est.as_dict() for cid, est in _table.items()}


def relative(source: str, t: float | None = None) -> ClockEstimate | None:
    """Clock ``source`` relative to this process's clock, as an estimate whose
    ``t_ref`` is ``t`` (default now); None when unknown."""
    t = now() if t is None else t
    if source == _CLOCK_ID:
        return ClockEstimate(0.0, 0.0, 0.0, t)
    table = _table
    src, own = table.get(source), table.get(_CLOCK_ID)
    if src is None or own is None:
        return None
    return ClockEstimate(src.at(t) - own.at(t), src.uncertainty + own.uncertainty,
                         src.drift - own.drift, t)


def offset_to(source: str, t: float | None = None) -> tuple[float, float] | None:
    """``(offset, uncertainty)`` of clock ``source`` relative to this process's clock
    at time ``t`` (default now): ``source_time - local_time``.  None when unknown."""
    est = relative(source, t)
    return None if est is None else (est.offset, est.uncertainty)


def to_local(t: float, source: str) -> float:
    """Timestamp ``t`` read on clock ``source`` converted to this process's clock.

    Raises KeyError naming the clock when no estimate is known for it yet.
    """
    est = offset_to(source, t)
    if est is None:
        raise KeyError(f"no clock offset known for clock {source!r} (this process is "
                       f"{_CLOCK_ID!r}; known: {', '.join(_table) or 'none'}): is a Manager "
                       f"synchronising clocks?")
    return t - est[0]


class SenderClock:
    """An input's view of its sender's clock (mixed into InputStream): the sender's
    clock id from ``params`` and conversions of its timestamps to this process's clock."""

    params: dict
    last_send_time: float | None

    @property
    def clock_id(self) -> str | None:
        """Id of the sender's clock (``params['clock_id']``), None for old senders."""
        return self.params.get("clock_id")

    def clock_offset(self) -> tuple[float, float] | None:
        """``(offset, uncertainty)`` in s of the sender's clock relative to this process's
        (sender - receiver), as estimated by the Manager's clock sync; None if unknown."""
        cid = self.clock_id
        return (0.0, 0.0) if cid is None else offset_to(cid)

    def to_local(self, t: float) -> float | None:
        """A timestamp on the sender's clock converted to this process's clock (None
        while no estimate is known for the sender's clock)."""
        cid = self.clock_id
        if cid is None:
            return t
        est = offset_to(cid, t)
        return None if est is None else t - est[0]

    @property
    def last_send_time_local(self) -> float | None:
        """``last_send_time`` converted to this process's clock (see :meth:`to_local`)."""
        t = self.last_send_time
        return None if t is None else self.to_local(t)
