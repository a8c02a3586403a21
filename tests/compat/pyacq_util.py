"""Helpers for running pyacq's own tests on acqflow (adapted only where noted in each test)."""
from __future__ import annotations

import functools
import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from acqflow.testing import wait_qt  # noqa: E402

# wait_qt with pyacq's patience: pyacq's nodes run Qt timers, and its tests wait up to 30 s
wait = functools.partial(wait_qt, timeout=30.0)


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


def trigger_buffer(nb_channel: int, last_pulse: int, sample_rate: float = 1000., seconds: float = 20.):
    """pyacq's trigger test signal: channel 0 is 2.0 from i to i + 0.4 s (i = 1..last_pulse - 1),
    with two 5 ms drops ("rebounces") every third pulse; other channels are noise."""
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    buffer = np.random.rand(len(t), nb_channel) * .3
    buffer[:, 0] = 0
    for i in range(1, last_pulse):
        buffer[(t > i) & (t < i + .4), 0] = 2.
        if i % 3 == 0:  # add rebounce every 3 triggers
            buffer[(t > i + .01) & (t < i + 0.015), 0] = 0.
            buffer[(t > i + .02) & (t < i + 0.025), 0] = 0.
    return buffer.astype('float32')


def make_device(buffer, sample_rate: float, chunksize: int, **output):
    """A NumpyDeviceBuffer as pyacq's tests make it (tcp plaindata unless ``output`` says otherwise)."""
    from pyacq.devices import NumpyDeviceBuffer
    dev = NumpyDeviceBuffer()
    dev.configure(nb_channel=buffer.shape[1], sample_interval=1. / sample_rate, chunksize=chunksize,
                  buffer=buffer)
    dev.output.configure(**{'protocol': 'tcp', 'interface': '127.0.0.1', 'transfermode': 'plaindata',
                            **output})
    dev.initialize()
    return dev


def make_viewer(cls, output, **configure):
    """A pyacq viewer as pyacq's tests make it: configure(with_user_dialog=True), connect, show."""
    viewer = cls()
    viewer.configure(**{'with_user_dialog': True, **configure})
    viewer.input.connect(output)
    viewer.initialize()
    viewer.show()
    return viewer
