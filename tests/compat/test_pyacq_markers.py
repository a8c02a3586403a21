"""pyacq's TriggerAccumulator on acqflow takes markers that carry a time (LSL's, EventSource's):
each sweep is cut around the signal sample of the marker's time."""
import numpy as np

from acqflow.compat.pyacq.dsp.triggeraccumulator import TriggerAccumulator
from acqflow.devices.events import event_dtype
from acqflow.testing import wait_for
from tests.nodes.util import source

FS, T0 = 1000.0, 7000.0


def _accumulate(events_dtype, field, sweep, feed, n_sweeps):
    """Run a TriggerAccumulator (stack of 3) on fresh sources, ``feed(sig, ev)`` them, wait for
    ``n_sweeps``; returns (stack copy, new_chunk totals, t_vect)."""
    sig = source(dtype="float32", shape=(-1, 2), sample_rate=FS)
    ev = source(streamtype="event", dtype=events_dtype, shape=(-1,))
    acc = TriggerAccumulator()
    acc.configure(max_stack_size=5, events_dtype_field=field)
    acc.inputs["signals"].connect(sig)
    acc.inputs["events"].connect(ev)
    acc.initialize()
    acc.params["stack_size"] = 3
    acc.params["left_sweep"], acc.params["right_sweep"] = sweep
    totals = []
    acc.new_chunk.connect(totals.append)
    acc.start()
    try:
        feed(sig, ev)
        wait_for(lambda: acc.total_trig >= n_sweeps, message=f"{n_sweeps} sweeps")
        with acc._lock:
            stack = acc.stack.copy()
    finally:
        acc.stop()
        acc.close()
        sig.close()
        ev.close()
    return stack, totals, acc.t_vect


X = (np.arange(3000)[:, None] * 10 + np.arange(2)).astype("float32")


def test_trigger_accumulator_places_markers_by_their_time():
    def feed(sig, ev):
        markers = np.zeros(2, event_dtype(16))
        markers["index"], markers["time"] = -1, [T0 + 0.5, T0 + 2.234]
        ev.send(markers)                           # the second waits for its signal
        for k in range(0, 3000, 100):               # stamped with their samples' times
            sig.send(X[k:k + 100], time=T0 + (k + 99) / FS)

    stack, _, _ = _accumulate(event_dtype(16).descr, "index", (-0.01, 0.02), feed, 2)
    np.testing.assert_array_equal(stack[0], X[490:520].T)
    np.testing.assert_array_equal(stack[1], X[2224:2254].T)


def test_trigger_accumulator_sweeps_after_the_event_by_a_named_index_field():
    """pyacq allows any left_sweep < right_sweep (here a window after the event) and events
    whose index is in a field named by ``events_dtype_field``."""
    dtype = [("pos", "int64"), ("code", "int32")]

    def feed(sig, ev):
        events = np.zeros(2, dtype)
        events["pos"] = [100, 600]
        ev.send(events)
        for k in range(0, 1000, 100):
            sig.send(X[k:k + 100])

    stack, totals, t_vect = _accumulate(dtype, "pos", (0.01, 0.05), feed, 2)
    assert totals == [1, 2] and stack.shape == (3, 2, 40)
    np.testing.assert_array_equal(stack[0], X[110:150].T)
    np.testing.assert_array_equal(stack[1], X[610:650].T)
    np.testing.assert_allclose(t_vect[[0, -1]], [0.01, 0.049])
