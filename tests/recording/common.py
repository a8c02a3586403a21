"""Shared helpers: the storage tests' reference signal sent through live streams."""
from __future__ import annotations

import numpy as np

from acqflow import InputStream, OutputStream
from acqflow.dataflow import StreamClosed
from tests.storage.source import (EV_PARAMS, SIG_PARAMS, analog, chunk_range, event,
                                  first_chunk_at, skipped)

__all__ = ["make_outputs", "send_chunks", "check_recorded", "Sink", "first_chunk_at",
           "analog", "chunk_range", "event", "SIG_PARAMS", "EV_PARAMS"]


def make_outputs(protocol: str = "tcp", **extra) -> tuple[OutputStream, OutputStream]:
    """A signal output ('sig', 16 ch at 1 kHz) and an event output ('ev')."""
    sig = OutputStream(name="sig")
    sig.configure(protocol=protocol, **SIG_PARAMS, **extra)
    ev = OutputStream(name="ev")
    ev.configure(protocol=protocol, **EV_PARAMS, **extra)
    return sig, ev


def send_chunks(sig: OutputStream, ev: OutputStream | None, k0: int, k1: int) -> tuple[int, int]:
    """Send reference chunks [k0, k1) (skipped chunks leave source gaps); returns the
    stop indexes of both streams afterwards."""
    for k in range(k0, k1):
        if skipped(k):
            continue
        start, stop = chunk_range(k)
        sig.send(analog(start, stop), index=stop)
        if ev is not None and k % 5 == 0:
            ev.send(event(k))
    return sig.index, (ev.index if ev is not None else 0)


def check_recorded(sig_stream, ev_stream=None) -> None:
    """Every stored sample equals the reference at the same absolute index; events
    are the reference events in order (a prefix when ``ev`` is shorter)."""
    for s, data in sig_stream.chunks():
        np.testing.assert_array_equal(data, analog(s, s + len(data)))
    if ev_stream is not None and ev_stream.n_samples:
        evs = ev_stream.read(fill=None) if not ev_stream.gaps else \
            np.concatenate([d for _, d in ev_stream.chunks()])
        ks = [k for k in range(0, 100_000, 5) if not skipped(k)][:len(evs)]
        expected = np.concatenate([event(k) for k in ks])
        assert ev_stream.first_index == 0
        np.testing.assert_array_equal(evs, expected)


class Sink:
    """Collects every chunk of an output: (index, data copy, receipt time)."""

    def __init__(self, output, **kw):
        import threading
        from acqflow.dataflow.streams import clock
        self.input = InputStream(name=f"sink {getattr(output, 'name', '')}")
        self.input.connect(output, **kw)
        self.chunks: list[tuple[int, np.ndarray, float]] = []
        self.closed = False
        self._stop = threading.Event()

        def run():
            while not self._stop.is_set():
                try:
                    index, data = self.input.recv(timeout=50, return_data=True)
                except TimeoutError:
                    continue
                except StreamClosed:
                    self.closed = True
                    return
                self.chunks.append((index, np.array(data), clock.now()))
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    @property
    def index(self) -> int:
        return self.chunks[-1][0] if self.chunks else 0

    def close(self) -> None:
        self._stop.set()
        self.thread.join()
        self.input.close()
