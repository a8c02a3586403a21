"""Viewers in their own Qt process (a node group with qt=True), and the graph monitor here.

synthetic (process "acq") -> TimeFrequency (process "acq") -> TimeFrequencyViewer (process "gui")
                          -> Oscilloscope (process "gui")
With QT_QPA_PLATFORM=offscreen (or ACQFLOW_EXAMPLE_SECONDS=n) it stops by itself.
"""
import os
import threading

from acqflow.manager import Manager
from acqflow.viewers import get_app, run_monitor

app = get_app()
seconds = float(os.environ.get("ACQFLOW_EXAMPLE_SECONDS") or (4 if app.platformName() == "offscreen" else 0))

with Manager() as manager:
    acq = manager.create_nodegroup("acq")
    gui = manager.create_nodegroup("gui", qt=True)
    gui.import_module("acqflow.viewers")        # registers the viewer node types there
    sig = acq.create_node("SyntheticSignal", "sig")
    sig.configure(channels=4, sample_rate=1000.0, chunksize=20, frequencies=[10, 20, 30, 40])
    sig.outputs["signals"].configure(protocol="tcp")
    sig.initialize()
    tf = acq.create_node("TimeFrequency", "tf")
    tf.configure(channels=[0, 1], f_start=4, f_stop=60, deltafreq=2, hop=0.1)
    tf.input.connect(sig.outputs["signals"])
    tf.output.configure(protocol="tcp")
    tf.initialize()
    scope = gui.create_node("Oscilloscope", "scope")
    scope.configure(xsize=2.0)
    scope.input.connect(sig.outputs["signals"])
    scope.initialize()
    tfview = gui.create_node("TimeFrequencyViewer", "tfview")
    tfview.configure(xsize=4.0)
    tfview.input.connect(tf.output)
    tfview.initialize()
    manager.start_all()

    stop = threading.Event()
    if seconds:
        threading.Timer(seconds, stop.set).start()
    run_monitor(manager, stop)                  # until the window is closed (or the timer)
    print("scope:", scope.counters())
    print("time-frequency viewer:", tfview.counters())
