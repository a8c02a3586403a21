"""Helpers for running pyacq's own tests on acqflow (adapted only where noted in each test)."""
from __future__ import annotations

import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="module")
def pyacq_installed():
    """``acqflow.compat.pyacq.install()`` for the module (undone after, if it was not on before)."""
    import acqflow.compat.pyacq as compat
    was = compat.installed()
    compat.install()
    yield
    if not was:
        compat.uninstall()


class Collector:
    """Receives every chunk of an output in a thread (pyacq tests use ThreadPollOutput for this)."""

    def __init__(self, output, **connect):
        from acqflow.dataflow.inputstream import InputStream
        from acqflow.dataflow.threadpoll import ThreadPollInput
        self.input = InputStream()
        self.input.connect(output)
        self.chunks: list[tuple[int, np.ndarray]] = []
        self.lock = threading.Lock()
        self.thread = ThreadPollInput(self.input, return_data=True)
        self.thread.process_data = self._add
        self.thread.start()

    def _add(self, index, data) -> None:
        with self.lock:
            self.chunks.append((index, np.array(data, copy=True)))

    @property
    def head(self) -> int:
        with self.lock:
            return self.chunks[-1][0] if self.chunks else 0

    def data(self) -> np.ndarray:
        with self.lock:
            return np.concatenate([c for _, c in self.chunks]) if self.chunks else np.zeros(0)

    def close(self) -> None:
        self.thread.stop()
        self.thread.join(5)
        self.input.close()


def wait(condition, timeout: float = 30.0, message: str = "") -> None:
    """Run the Qt loop (pyacq's nodes may use Qt timers) until ``condition()``; fail on timeout."""
    from acqflow.viewers import process_events_until
    if not process_events_until(condition, timeout):
        pytest.fail(f"timed out after {timeout} s waiting for {message or condition}")
