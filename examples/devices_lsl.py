"""Bridge to Lab Streaming Layer: publish a synthetic signal with LSLOutlet, read it back
with LSLInlet (time stamps converted to acqflow's clock).

Run: python examples/devices_lsl.py
"""
import uuid

import numpy as np

import acqflow
from acqflow.devices import LSLInlet, SyntheticSignal
from acqflow.interrupt import quiet_interrupt
from acqflow.nodes import LSLOutlet

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

name = f"acqflow-example-{uuid.uuid4().hex[:6]}"
source = SyntheticSignal(name="synth")
source.configure(channels=2, sample_rate=500.0, chunksize=50, channel_names=["C3", "C4"])
source.initialize()

outlet = LSLOutlet(name="to-lsl")
outlet.configure(name=name, type="EEG")
outlet.input.connect(source.output)
outlet.initialize()

inlet = LSLInlet(name="from-lsl")
inlet.configure(name=name, resolve_timeout=10.0)
inlet.initialize()
print("LSL stream seen as:", {k: inlet.outputs["signals"].params[k]
                              for k in ("shape", "dtype", "sample_rate", "channel_info")})
signals, times = acqflow.InputStream(), acqflow.InputStream()
signals.connect(inlet.outputs["signals"])
times.connect(inlet.outputs["timestamps"])

outlet.start()
inlet.start()
source.start()
got, lags = [], []
while sum(len(d) for d in got) < 500:
    index, data = signals.recv(timeout=10000)
    _, stamps = times.recv(timeout=10000)         # same indexes as the signal
    lags.append(acqflow.dataflow.streams.clock.now() - stamps[-1, 0])
    got.append(data)
for node in (source, inlet, outlet):              # the inlet first: a vanished outlet is an error
    node.close()
data = np.concatenate(got)
print(f"received {len(data)} samples through liblsl; median lag of the newest sample "
      f"{np.median(lags) * 1e3:.1f} ms")
