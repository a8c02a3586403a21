"""Send a multichannel signal from one thread to another through a shared-memory stream.

Run: python examples/streams_threads.py
"""
import threading

import numpy as np

import acqflow
from acqflow.interrupt import quiet_interrupt

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

out = acqflow.OutputStream(name="generator")
out.configure(protocol="inproc", transfermode="sharedmem", dtype="float32", shape=(-1, 8),
              sample_rate=1000.0, buffer_size=10000, backpressure="block")

inp = acqflow.InputStream(name="consumer")
inp.connect(out)

total = {"samples": 0, "sum": 0.0}


def consume():
    while True:
        try:
            index, _ = inp.recv(timeout=2000)          # sharedmem: just the index...
        except acqflow.StreamClosed:
            return
        data = inp.get_array_slice(index, 100)         # ...and a zero-copy view
        total["samples"] += len(data)
        total["sum"] += float(data[:, 0].sum())


thread = threading.Thread(target=consume)
thread.start()
for k in range(50):
    out.send(np.full((100, 8), k, dtype="float32"))
out.close()
thread.join()
inp.close()
print(f"received {total['samples']} samples, channel 0 sum {total['sum']:.0f}, "
      f"dropped {inp.dropped}")
