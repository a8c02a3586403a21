"""Sound capture with AudioDevice.

Without a sound card, the example builds one from ALSA's ``file`` plugin (the
capture reads a raw file) and runs the audio side in a fresh process whose HOME
holds that ``.asoundrc`` (PortAudio reads ALSA's configuration at start-up).
With a real card, just use ``input_device='default'``.
Run: python examples/devices_audio.py
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

import acqflow
from acqflow.devices import AudioDevice

RATE = 16000


def capture() -> None:
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
    print("stats:", dev.stats())
    dev.close()
    sound = np.concatenate(chunks)[:RATE, 0]
    expected = np.fromfile(os.path.join(os.environ["HOME"], "in.raw"), "<i2")
    print(f"captured {len(sound)} samples, identical to the 'card' input: "
          f"{np.array_equal(sound, expected)}")


if __name__ == "__main__":
    if os.environ.get("ACQFLOW_EXAMPLE_CHILD"):
        capture()
        sys.exit()
    home = tempfile.mkdtemp()
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)).astype("<i2")
    tone.tofile(os.path.join(home, "in.raw"))
    with open(os.path.join(home, ".asoundrc"), "w") as f:
        f.write('pcm.!default { type plug slave.pcm "f" }\n'
                f'pcm.f {{ type file slave.pcm "null" file "{home}/out.raw" '
                f'infile "{home}/in.raw" format "raw" }}\n')
    env = dict(os.environ, HOME=home, ACQFLOW_EXAMPLE_CHILD="1")
    sys.exit(subprocess.call([sys.executable, os.path.abspath(__file__)], env=env))
