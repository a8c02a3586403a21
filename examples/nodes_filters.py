"""A live filter chain: SyntheticSignal -> SosFilter (50 Hz notch) -> Decimate, plus OverlapFiltfilt.

The source sends 5 Hz + 50 Hz mains on 4 channels at 5 kHz for one second; the
notch removes the 50 Hz, Decimate brings it to 500 Hz, a parameter change
happens while running, and the zero-phase filter's latency is printed.

Run: python examples/nodes_filters.py
"""
import numpy as np

import acqflow
from acqflow.devices import SyntheticSignal
from acqflow.interrupt import quiet_interrupt
from acqflow.nodes import Decimate, OverlapFiltfilt, SosFilter

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

FS = 5000.0
dev = SyntheticSignal(name="synth")
t = np.arange(int(FS)) / FS
mains = np.sin(2 * np.pi * 5 * t) + 0.8 * np.sin(2 * np.pi * 50 * t)
dev.configure(channels=4, sample_rate=FS, chunksize=150, buffer=np.tile(mains[:, None], (1, 4)))
dev.output.configure(protocol="inproc")
dev.initialize()

notch = SosFilter(name="notch")
notch.configure(btype="notch", freq=50.0, Q=5.0, init="steady")
notch.input.connect(dev.output)
notch.output.configure(protocol="inproc")
notch.initialize()

dec = Decimate(name="dec")
dec.configure(factor=10)
dec.input.connect(notch.output)
dec.output.configure(protocol="inproc")
dec.initialize()

zero_phase = OverlapFiltfilt(name="lowpass")
zero_phase.configure(btype="lowpass", freq=20.0, order=2)
zero_phase.input.connect(dev.output)
zero_phase.output.configure(protocol="inproc")
zero_phase.initialize()
print(f"OverlapFiltfilt latency: {zero_phase.delay} samples ({zero_phase.delay_s * 1000:.0f} ms), "
      f"at most {zero_phase.max_latency} samples")

sink = acqflow.InputStream()
sink.connect(dec.output)
print("decimated stream:", sink.params["sample_rate"], "Hz,", sink.params["shape"])
for node in (dec, notch, zero_phase, dev):
    node.start()

received, changed = [], False
while sum(len(d) for d in received) < 500:            # one second at 500 Hz
    index, data = sink.recv(timeout=5000)
    received.append(data)
    if index >= 250 and not changed:                    # while running: a wider notch
        notch.set_params(Q=2.0)
        changed = True
out = np.concatenate(received)[100:]                    # after the notch's transient
spectrum = np.abs(np.fft.rfft(out[:, 0] - out[:, 0].mean()))
freqs = np.fft.rfftfreq(len(out), 1 / 500.0)
peak = freqs[spectrum.argmax()]
print(f"received up to index {index}; dominant frequency {peak:.1f} Hz; "
      f"50 Hz residue {spectrum[np.abs(freqs - 50).argmin()] / spectrum.max():.3f} of the 5 Hz peak")
for node in (dev, zero_phase, notch, dec):
    node.close()
sink.close()
