"""pyacq's TriggerAccumulator on acqflow takes markers that carry a time (LSL's, EventSource's):
each sweep is cut around the signal sample of the marker's time."""
import numpy as np

from acqflow.compat.pyacq.dsp.triggeraccumulator import TriggerAccumulator
from acqflow.devices.events import event_dtype
from acqflow.testing import wait_for
from tests.nodes.util import source

FS, T0 = 1000.0, 7000.0


def test_trigger_accumulator_places_markers_by_their_time():
    sig = source(dtype="float32", shape=(-1, 2), sample_rate=FS)
    ev = source(streamtype="event", dtype=event_dtype(16).descr, shape=(-1,))
    acc = TriggerAccumulator()
    acc.configure(max_stack_size=5, events_dtype_field="index")
    acc.inputs["signals"].connect(sig)
    acc.inputs["events"].connect(ev)
    acc.initialize()
    acc.params["stack_size"] = 2
    acc.params["left_sweep"] = -0.01
    acc.params["right_sweep"] = 0.02
    acc.start()
    try:
        x = (np.arange(3000)[:, None] * 10 + np.arange(2)).astype("float32")
        markers = np.zeros(2, event_dtype(16))
        markers["index"], markers["time"] = -1, [T0 + 0.5, T0 + 2.234]
        ev.send(markers)                           # the second waits for its signal
        for k in range(0, 3000, 100):               # stamped with their samples' times
            sig.send(x[k:k + 100], time=T0 + (k + 99) / FS)
        wait_for(lambda: acc.total_trig >= 2, message="2 sweeps")
        with acc._lock:
            stack = acc.stack.copy()
    finally:
        acc.stop()
        acc.close()
        sig.close()
        ev.close()
    np.testing.assert_array_equal(stack[0], x[490:520].T)
    np.testing.assert_array_equal(stack[1], x[2224:2254].T)
