"""Sound capture with AudioDevice: one second from the default input, then its level and pitch.

Without a sound card, ALSA's ``file`` plugin makes one that plays a raw file as the
microphone (docs/devices/audio.md shows the ``~/.asoundrc``; the tests use it).
Run: python examples/devices_audio.py   (needs: pip install 'acqflow[audio]')
"""
import numpy as np

import acqflow
from acqflow.devices import AudioDevice
from acqflow.interrupt import quiet_interrupt

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

RATE = 16000

dev = AudioDevice(name="mic")
dev.configure(input_device="default", channels=1, sample_rate=float(RATE), dtype="int16",
              blocksize=800)
dev.output.configure(backpressure="block")
dev.initialize()
inp = acqflow.InputStream()
inp.connect(dev.output)
dev.start()

chunks = []
while sum(len(c) for c in chunks) < RATE:                 # one second
    chunks.append(inp.recv(timeout=5000)[1])
dev.stop()
print("stats:", dev.stats().as_dict())
dev.close()
inp.close()

sound = np.concatenate(chunks)[:RATE, 0]
spectrum = np.abs(np.fft.rfft(sound))
loudest = np.fft.rfftfreq(len(sound), 1 / RATE)[spectrum[1:].argmax() + 1]   # not DC
print(f"captured {len(sound)} samples; first ones {sound[:6].tolist()}")
print(f"level {np.sqrt(np.mean(sound.astype(float) ** 2)):.0f} rms; loudest frequency {loudest:.0f} Hz")
