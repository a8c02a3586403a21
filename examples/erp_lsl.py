"""Online ERP from Lab Streaming Layer: epochs around each stimulus marker, averaged live.

A stimulus program and an amplifier play in another process (this script, started with
``--outlets``): an LSL EEG stream (4 channels at 500 Hz: noise plus an evoked response
peaking 300 ms after each stimulus) and an LSL marker stream whose markers are stamped
with their stimulus's time, as PsychoPy or Unity stamp theirs.  Here: an LSLInlet for
each, an Epocher (-0.1 s to +0.5 s around each marker, placed on the EEG sample of the
marker's time), and one window with the raw EEG (Oscilloscope) and the running average
(EpochViewer).  Runs until the window is closed or Ctrl-C, then prints what was averaged.
Run: python examples/erp_lsl.py   (needs: pip install 'acqflow[lsl,qt]')
"""
import signal
import subprocess
import sys
import threading
import uuid

import numpy as np

RATE, CHANNELS, PEAK = 500.0, 4, 0.3          # Hz, channels, s from stimulus to the peak


def play_outlets(name: str) -> None:
    """The stimulus program and the amplifier: until stdin closes."""
    import pylsl
    eeg = pylsl.StreamOutlet(pylsl.StreamInfo(f"{name}-EEG", "EEG", CHANNELS, RATE,
                                              pylsl.cf_float32, f"{name}-eeg"))
    markers = pylsl.StreamOutlet(pylsl.StreamInfo(f"{name}-Markers", "Markers", 1, 0,
                                                  pylsl.cf_string, f"{name}-markers"))
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    rng = np.random.default_rng()
    gain = np.linspace(1.0, 0.4, CHANNELS)                  # the response, weaker further away
    t0, k, stims, next_stim = pylsl.local_clock(), 0, [], 0.5
    while not done.is_set():
        t = t0 + np.arange(k, k + 10) / RATE                  # 10 samples, their true times
        while next_stim < t[-1] - t0:                         # a stimulus: its marker, its time
            stims = stims[-3:] + [t0 + next_stim]
            markers.push_sample(["stim"], t0 + next_stim)
            next_stim += rng.uniform(0.6, 0.9)
        response = sum(8.0 * np.exp(-((t - s - PEAK) / 0.03) ** 2) for s in stims) if stims else 0 * t
        data = rng.normal(0, 1.0, (10, CHANNELS)) + np.multiply.outer(response, gain)
        eeg.push_chunk(data.astype("float32"), t.tolist())
        k += 10
        done.wait(max(0.0, t0 + k / RATE - pylsl.local_clock()))


if sys.argv[1:2] == ["--outlets"]:
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C reaches this child too: it plays on
    play_outlets(sys.argv[2])                      # until the script, once its inlets are
    sys.exit(0)                                    # closed, closes our stdin

from acqflow.interrupt import quiet_interrupt                 # noqa: E402

from acqflow.devices import LSLInlet                          # noqa: E402
from acqflow.nodes import Epocher                             # noqa: E402
from acqflow.viewers import EpochViewer, Oscilloscope, ViewerPanel, get_app, run_app  # noqa: E402

quiet_interrupt()                             # Ctrl-C: 'interrupted', no traceback
app = get_app()
name = f"erp-example-{uuid.uuid4().hex[:6]}"
player = subprocess.Popen([sys.executable, __file__, "--outlets", name], stdin=subprocess.PIPE)

eeg = LSLInlet(name="eeg")
eeg.configure(name=f"{name}-EEG", resolve_timeout=30.0)
markers = LSLInlet(name="markers")
markers.configure(name=f"{name}-Markers", streamtype="event", resolve_timeout=30.0)
for out in (*eeg.outputs.values(), *markers.outputs.values()):
    out.configure(protocol="inproc")
epocher = Epocher(name="epocher")
epocher.configure(pre=0.1, post=0.5)
epocher.inputs["signal"].connect(eeg.outputs["signals"])
epocher.inputs["events"].connect(markers.outputs["signals"])
epocher.outputs["output"].configure(protocol="inproc")

scope = Oscilloscope(name="eeg (raw)")
scope.configure(xsize=3.0, show=False)
scope.input.connect(eeg.outputs["signals"])
average = EpochViewer(name="average")
average.configure(max_epochs=5, show=False)
average.input.connect(epocher.outputs["output"])
nodes = (eeg, markers, epocher, scope, average)
for node in nodes:
    node.initialize()
panel = ViewerPanel(title="acqflow example: online ERP from LSL")
panel.add_viewer(scope, area="left")
panel.add_viewer(average, area="right")
for node in nodes:
    node.start()
panel.show()
run_app(announce="running: close the window or press Ctrl-C to stop")   # until then

for node in nodes:
    node.close()
player.stdin.close()
player.wait(10)
mean = average.average()
print("epochs averaged:", average.n_epochs, "rejected:", epocher.rejected)
if mean is not None:                # the response's centre: where all channels are above half its peak
    curve = mean.sum(axis=1)
    top = np.flatnonzero(curve >= curve.max() / 2)
    peak = (np.average(top, weights=curve[top]) - epocher.n_pre) / RATE
    print(f"average peak: {peak * 1e3:.0f} ms after the marker (the outlets put it at "
          f"{PEAK * 1e3:.0f} ms)")
