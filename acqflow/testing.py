"""Helpers for acqflow's tests and for users' own tests of their nodes and graphs.

Importable without pytest and without Qt: both are imported only by the helpers
that need them.

- :func:`wait_for`: poll a condition until it holds or a timeout passes (never
  sleep to synchronise with another thread or process: wait on a condition).
- :func:`process_events_until`: the same with the Qt event loop running.
- :func:`grab_array`, :func:`save_png`: what a widget shows, as an RGBA array or a PNG.
"""
from __future__ import annotations

import time
from typing import Any, Callable

__all__ = ["wait_for", "WaitTimeout", "process_events_until", "grab_array", "save_png"]


class WaitTimeout(AssertionError, TimeoutError):
    """A condition did not hold in time (outside pytest): both an AssertionError, as a
    failed check, and a TimeoutError."""


def _fail(message: str) -> None:
    """pytest.fail under pytest (a clean test failure), WaitTimeout otherwise."""
    try:
        import pytest
    except ImportError:
        raise WaitTimeout(message) from None
    pytest.fail(message)


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01,
             message: str = "") -> Any:
    """Wait until ``condition()`` is true and return its value; after ``timeout`` seconds
    fail the test (``pytest.fail``; without pytest, raise :class:`WaitTimeout`, an
    AssertionError and a TimeoutError, with the same message)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            _fail(f"timed out after {timeout} s waiting for {message or condition}")
        time.sleep(interval)


def process_events_until(condition: Callable[[], Any], timeout: float = 10.0) -> bool:
    """Run the Qt event loop until ``condition()`` holds (True) or ``timeout`` s pass (False)."""
    from .viewers.base import process_events_until as run
    return run(condition, timeout)


def grab_array(widget: Any):
    """What a Qt ``widget`` shows, as an (h, w, 4) uint8 RGBA array."""
    from .viewers.base import grab_array as grab
    return grab(widget)


def save_png(widget: Any, path: str) -> None:
    """Save a screenshot of a Qt ``widget`` to ``path`` (PNG)."""
    from .viewers.base import save_png as save
    save(widget, path)
