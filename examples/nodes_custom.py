"""Write your own node: a ProcessingNode subclass in ~15 lines.

Envelope = |signal| through a one-pole low-pass whose state runs across chunks.
The worker thread, output params (inherited from the input), absolute indexes
and life-cycle come from ProcessingNode.

Run: python examples/nodes_custom.py
"""
import numpy as np
from scipy import signal

import acqflow
from acqflow import ProcessingNode, register_node_type
from acqflow.interrupt import quiet_interrupt


class Envelope(ProcessingNode):
    """|signal| smoothed with time constant ``tau`` (s), state kept across chunks."""

    def _configure(self, tau=0.05):
        self.tau = tau

    def _initialize(self):
        super()._initialize()
        fs, n_channels = self.input.params["sample_rate"], self.input.params["shape"][1]
        a = np.exp(-1.0 / (self.tau * fs))
        self.b, self.a, self.zi = [1 - a], [1, -a], np.zeros((1, n_channels))

    def process(self, index, data):
        out, self.zi = signal.lfilter(self.b, self.a, np.abs(data), axis=0, zi=self.zi)
        return out.astype(data.dtype)


register_node_type(Envelope)

if __name__ == "__main__":
    quiet_interrupt()                           # Ctrl-C: 'interrupted', no traceback
    fs = 1000.0
    src = acqflow.OutputStream(name="src")
    src.configure(protocol="inproc", dtype="float32", shape=(-1, 2), sample_rate=fs)
    env = acqflow.get_node_type("Envelope")(name="env")
    env.configure(tau=0.02)
    env.input.connect(src)
    env.output.configure(protocol="inproc")
    env.initialize()
    sink = acqflow.InputStream()
    sink.connect(env.output)
    env.start()

    t = np.arange(2000) / fs
    x = np.stack([np.sin(2 * np.pi * 50 * t) * (t > 1), 0.5 * np.sin(2 * np.pi * 80 * t)], 1)
    for k in range(0, 2000, 100):
        src.send(x[k:k + 100].astype("float32"))
    chunks = [sink.recv(timeout=5000) for _ in range(20)]
    out = np.concatenate([d for _, d in chunks])
    print(f"received up to index {chunks[-1][0]}")
    print(f"envelope at 0.9 s, before the 50 Hz burst: {out[900].round(3)}")
    print(f"envelope at 1.9 s, during the burst: {out[1900].round(3)} "
          f"(2/pi x amplitude = {2 / np.pi:.3f})")
    env.close()
    src.close()
    sink.close()
