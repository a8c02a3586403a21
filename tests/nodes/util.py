"""A source -> node -> sink pipeline over real streams and threads, for node tests."""
from __future__ import annotations

import threading

import numpy as np

from acqflow import InputStream, OutputStream, ThreadPollInput
from acqflow.testing import wait_for


class Sink:
    """Collects every chunk of an output in a thread."""

    def __init__(self, output):
        self.input = InputStream(name="sink")
        self.input.connect(output)
        self.chunks: list[tuple[int, np.ndarray]] = []
        self.lock = threading.Lock()
        self.poller = ThreadPollInput(self.input, return_data=True, timeout=50)
        self.poller.new_data.connect(self._on_data)
        self.poller.start()

    def _on_data(self, index, data):
        with self.lock:
            self.chunks.append((index, np.array(data)))

    @property
    def index(self) -> int:
        with self.lock:
            return self.chunks[-1][0] if self.chunks else 0

    def wait_index(self, index: int, timeout: float = 20.0) -> None:
        wait_for(lambda: self.index >= index, timeout, message=f"output index {index}")

    def wait_closed(self, timeout: float = 20.0) -> None:
        self.poller.join(timeout)
        assert self.poller.closed

    def data(self) -> np.ndarray:
        with self.lock:
            return np.concatenate([d for _, d in self.chunks])

    def close(self) -> None:
        self.poller.stop()
        self.poller.join(5)
        self.input.close()


def source(**params) -> OutputStream:
    out = OutputStream(name="src")
    out.configure(**{"protocol": "inproc", "backpressure": "block", **params})
    return out


class Pipeline:
    """source -> node -> sink; ``send`` feeds the source, ``sink`` collects the output."""

    def __init__(self, node, src_params: dict, **config):
        self.node = node
        self.src = source(**src_params)
        node.configure(**config)
        node.input.connect(self.src)
        node.output.configure(protocol="inproc", backpressure="block")
        node.initialize()
        self.sink = Sink(node.output)
        node.start()

    def send(self, data, index=None) -> None:
        self.src.send(np.ascontiguousarray(data), index=index)

    def send_chunked(self, x: np.ndarray, sizes) -> None:
        k = 0
        for n in sizes:
            if k >= len(x):
                break
            self.send(x[k:k + n])
            k += n
        if k < len(x):
            self.send(x[k:])

    def end(self) -> None:
        """Close the source (end of stream) and wait until the node has flushed."""
        self.src.close()
        wait_for(lambda: self.node._poller is None or not self.node._poller.is_alive(),
                 message="node worker to see the end of stream")

    def close(self) -> None:
        self.node.close()
        self.src.close()
        self.sink.close()


def random_sizes(rng, total: int, low: int = 1, high: int = 700) -> list[int]:
    sizes = []
    while sum(sizes) < total:
        sizes.append(int(rng.integers(low, high)))
    return sizes
