"""Viewers in this process, docked in one window: 16 channels at 30 kHz and markers.

An Oscilloscope (top) and an EventRaster (bottom) in a ViewerPanel; a marker
every 0.7 s.  Runs until the window is closed or Ctrl-C, then prints what was drawn.
Run: python examples/viewers_panel.py   (needs: pip install 'acqflow[qt]')
"""
import itertools

from pyqtgraph.Qt import QtCore

from acqflow.devices.events import EventSource
from acqflow.devices.synthetic import SyntheticSignal
from acqflow.interrupt import quiet_interrupt
from acqflow.viewers import EventRaster, Oscilloscope, ViewerPanel, get_app, run_app

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

app = get_app()

signal = SyntheticSignal(name="eeg")
signal.configure(channels=16, sample_rate=30000.0, chunksize=300, waveform="sine",
                 frequencies=[1 + i % 5 for i in range(16)])
signal.outputs["signals"].configure(protocol="inproc", transfermode="sharedmem", buffer_size=300000)
signal.initialize()
markers = EventSource(name="markers")
markers.configure()
markers.outputs["events"].configure(protocol="inproc")
markers.initialize()

scope = Oscilloscope(name="scope")
scope.configure(xsize=2.0, show=False)
scope.input.connect(signal.outputs["signals"])
raster = EventRaster(name="raster")
raster.configure(xsize=5.0, show=False)
raster.input.connect(markers.outputs["events"])
panel = ViewerPanel(title="acqflow example: viewers")
for viewer, area in ((scope, "top"), (raster, "bottom")):
    viewer.initialize()
    viewer.start()
    panel.add_viewer(viewer, area=area)
panel.resizeDocks([scope.widget.parent(), raster.widget.parent()], [500, 150], QtCore.Qt.Vertical)
panel.show()
signal.start()
markers.start()

labels = itertools.cycle(["stim", "resp"])
tick = QtCore.QTimer()
tick.timeout.connect(lambda: markers.push_event(next(labels)))
tick.start(700)
run_app(announce="running: close the window or press Ctrl-C to stop")   # until then

tick.stop()
print("scope:", scope.counters())
print("raster:", raster.counters())
for node in (signal, markers, scope, raster):
    node.close()
