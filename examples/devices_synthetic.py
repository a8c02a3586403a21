"""A clock-paced synthetic source: three sine channels for one second.

Run: python examples/devices_synthetic.py
"""
import numpy as np

import acqflow
from acqflow.devices import SyntheticSignal
from acqflow.interrupt import quiet_interrupt

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

dev = SyntheticSignal(name="synth")
dev.configure(channels=3, sample_rate=1000.0, chunksize=100, waveform="sine",
              frequencies=[2.0, 5.0, 10.0], channel_names=["x", "y", "z"])
dev.output.configure(protocol="tcp", transfermode="plaindata")
dev.initialize()

inp = acqflow.InputStream()
inp.connect(dev.output)
print("channel_info:", inp.params["channel_info"])

dev.start()
received = []
while sum(len(d) for d in received) < 1000:      # one second of signal
    index, data = inp.recv(timeout=5000)
    received.append(data)
dev.stop()
dev.close()

signal = np.concatenate(received)
print(f"received {len(signal)} samples up to index {index}; "
      f"rms per channel {np.sqrt((signal ** 2).mean(axis=0)).round(3)}")
