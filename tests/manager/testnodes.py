"""Small node types for manager tests (imported in the group processes too)."""
import threading
import time

import numpy as np

from acqflow import Node, ProcessingNode, register_node_type


class Ramp(Node):
    """Sends value == absolute index (channel 1 negated), paced at ``rate``."""

    _output_specs = {"signals": {"dtype": "float32", "shape": (-1, 2), "sample_rate": 1000.0}}

    def _configure(self, rate=1000.0, chunk=10):
        self.rate, self.chunk = float(rate), int(chunk)
        self.outputs["signals"].spec["sample_rate"] = self.rate

    def _start(self):
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{self.name} sender", daemon=True)
        self._thread.start()

    def _run(self):
        out, t0, n = self.outputs["signals"], time.perf_counter(), 0
        while not self._halt.wait(max(0.0, t0 + (n + self.chunk) / self.rate - time.perf_counter())):
            i0 = out.index
            values = np.arange(i0, i0 + self.chunk, dtype="float32")
            out.send(np.stack([values, -values], axis=1))
            n += self.chunk

    def _stop(self):
        self._halt.set()
        self._thread.join()


class Gain(ProcessingNode):
    def _configure(self, gain=2.0):
        self.gain = gain

    def process(self, index, data):
        return data * self.gain


register_node_type(Ramp)
register_node_type(Gain, "TestGain")


class Sink64(Node):
    """Accepts only float64 input (to test dtype checks)."""

    _input_specs = {"input": {"dtype": "float64"}}


register_node_type(Sink64)
