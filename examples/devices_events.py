"""Markers for annotating a recording: push events by program (or type them on stdin).

Run: python examples/devices_events.py
"""
import acqflow
import acqflow.dataflow.streams.clock
from acqflow.devices import EventSource
from acqflow.interrupt import quiet_interrupt

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

markers = EventSource(name="markers")
markers.configure(label_size=16, reference_rate=1000.0)   # index = sample of a 1 kHz signal
markers.initialize()

inp = acqflow.InputStream()
inp.connect(markers.output)
markers.start()
t0 = acqflow.dataflow.streams.clock.now()
markers.push_event("rest")                                # now
markers.push_event("stimulus", time=t0 + 0.5)             # or at a given clock time
markers.push_event("response", time=t0 + 0.8)

events = []
while len(events) < 3:
    events.extend(inp.recv(timeout=5000)[1])
markers.close()

for ev in events:
    print(f"{ev['label'].decode():>10}  time={ev['time']:.6f}  sample index={ev['index']}")
