"""Viewers in their own Qt process (a node group with qt=True), and the graph monitor here.

synthetic (process "acq") -> TimeFrequency (process "acq") -> TimeFrequencyViewer (process "gui")
                          -> Oscilloscope (process "gui")
The graph monitor runs until its window is closed or Ctrl-C; then the graph stops
and what the viewers drew is printed.
Run: python examples/viewers_qt_group.py   (needs: pip install 'acqflow[qt]')
"""
import threading

from acqflow.interrupt import quiet_interrupt
from acqflow.manager import Manager
from acqflow.viewers import run_monitor

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

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

    run_monitor(manager, threading.Event(),     # until the window is closed or Ctrl-C
                announce="running: close the monitor window or press Ctrl-C to stop")
    print("scope:", scope.counters())
    print("time-frequency viewer:", tfview.counters())
