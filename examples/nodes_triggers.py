"""Trigger + epoch averaging: a noisy evoked response, detected on a TTL channel and averaged.

Channel 0 is a TTL pulse every 200 ms, channel 1 a response 20 ms after it
buried in noise. AnalogTrigger finds the rising fronts (debounced),
Epocher cuts [-20, +80] ms around each and keeps the running average.

Run: python examples/nodes_triggers.py
"""
import numpy as np

import acqflow
from acqflow.devices import SyntheticSignal
from acqflow.interrupt import quiet_interrupt
from acqflow.nodes import AnalogTrigger, Epocher

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

FS = 2000.0
period = int(0.2 * FS)
rng = np.random.default_rng(0)
loop = np.zeros((period * 5, 2), "float32")
for k in range(5):
    start = k * period + 100
    loop[start:start + 20, 0] = 5.0                                    # TTL, 10 ms
    resp = np.exp(-((np.arange(period) - 140) / 10.0) ** 2)            # 20 ms after it
    loop[k * period:(k + 1) * period, 1] = resp
loop[:, 1] += rng.normal(0, 0.3, len(loop))                             # noise

dev = SyntheticSignal(name="synth")
dev.configure(channels=2, sample_rate=FS, chunksize=100, buffer=loop)
dev.output.configure(protocol="inproc")
dev.initialize()

trig = AnalogTrigger(name="ttl")
trig.configure(channel=0, threshold=2.5, front="+", debounce_time=0.005, debounce_mode="after-stable")
trig.input.connect(dev.output)
trig.output.configure(protocol="inproc")
trig.initialize()

epo = Epocher(name="epochs")
epo.configure(pre=0.02, post=0.08)
epo.inputs["signal"].connect(dev.output)
epo.inputs["events"].connect(trig.output)
epo.output.configure(protocol="inproc")
epo.initialize()

sink = acqflow.InputStream()
sink.connect(epo.output)
for node in (epo, trig, dev):
    node.start()
n_epochs = 0
while n_epochs < 6:
    _, epochs = sink.recv(timeout=5000)
    n_epochs += len(epochs)
    print("epochs at", epochs["index"].tolist(), "shape", epochs["epoch"].shape)
peak = epo.average[:, 1].argmax() - int(0.02 * FS)
print(f"{epo.n_epochs} epochs averaged; response peak {peak / FS * 1000:.1f} ms after the trigger")
for node in (dev, trig, epo):
    node.close()
sink.close()
