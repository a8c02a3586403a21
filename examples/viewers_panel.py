"""Viewers in this process, docked in one window: 16 channels at 30 kHz, their bits, and markers.

Run it to get a window; with QT_QPA_PLATFORM=offscreen (or ACQFLOW_EXAMPLE_SECONDS=n)
it runs a few seconds by itself, prints what was drawn and saves a screenshot.
"""
import os

import acqflow
from acqflow.devices.events import EventSource
from acqflow.devices.synthetic import SyntheticSignal
from acqflow.viewers import EventRaster, Oscilloscope, ViewerPanel, get_app, save_png
from acqflow.viewers.base import QtCore

app = get_app()
seconds = float(os.environ.get("ACQFLOW_EXAMPLE_SECONDS") or (3 if app.platformName() == "offscreen" else 0))

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

labels = iter(["stim", "resp"] * 1000)
tick = QtCore.QTimer()
tick.timeout.connect(lambda: markers.push_event(next(labels)))
tick.start(700)
if seconds:
    QtCore.QTimer.singleShot(int(seconds * 1000), app.quit)
app.exec_()

print("scope:", scope.counters())
print("raster:", raster.counters())
os.makedirs("test-output/viewers", exist_ok=True)
save_png(panel, "test-output/viewers/example_panel.png")
tick.stop()
for node in (signal, markers, scope, raster):
    node.close()
