"""Epocher: epochs equal the signal's windows, events before or after the signal, average, gaps."""
import numpy as np
import pytest

from acqflow import InputStream
from acqflow.dataflow import clock
from acqflow.dataflow.spec import EVENT_DTYPE
from acqflow.devices.events import event_dtype
from acqflow.nodes import AnalogTrigger, Epocher
from acqflow.testing import wait_for
from tests.nodes.util import Sink, source

FS = 1000.0


def ramp(n, ch=3):
    return (np.arange(n)[:, None] * 10 + np.arange(ch)).astype("float32")


def events(*indexes, label=b"go"):
    ev = np.zeros(len(indexes), EVENT_DTYPE)
    ev["index"], ev["label"] = indexes, label
    return ev


class Graph:
    def __init__(self, **config):
        self.sig = source(dtype="float32", shape=(-1, 3), sample_rate=FS,
                          channel_info=[{"name": c} for c in "abc"])
        self.ev = source(streamtype="event")
        self.node = Epocher(name="epo")
        self.node.configure(**config)
        self.node.inputs["signal"].connect(self.sig)
        self.node.inputs["events"].connect(self.ev)
        self.node.output.configure(protocol="inproc")
        self.node.initialize()
        self.sink = Sink(self.node.output)
        self.node.start()

    def close(self):
        self.node.close()
        self.sig.close()
        self.ev.close()
        self.sink.close()


def test_events_before_and_after_their_signal():
    g = Graph(pre=0.01, post=0.02)
    assert g.node.output.params["channel_info"] == [{"name": c} for c in "abc"]
    x = ramp(3000)
    g.ev.send(events(100, 250))                 # before the signal exists
    g.sig.send(x[:1000])
    g.sink.wait_index(2)
    g.ev.send(events(500, 990, 1500, label=b"late"))   # 500: signal already there
    g.sink.wait_index(3)
    assert g.sink.index == 3                   # 990 and 1500 wait for their post part
    g.sig.send(x[1000:2000])
    g.sink.wait_index(5)
    got = g.sink.data()
    assert got["index"].tolist() == [100, 250, 500, 990, 1500]
    assert got["label"].tolist() == [b"go", b"go", b"late", b"late", b"late"]
    assert got["epoch"].shape == (5, 30, 3)
    for rec in got:
        np.testing.assert_array_equal(rec["epoch"], x[rec["index"] - 10:rec["index"] + 20])
    np.testing.assert_allclose(g.node.average, got["epoch"].astype(float).mean(axis=0), rtol=1e-6)
    assert g.node.n_epochs == 5 and g.node.rejected == 0
    g.close()


T0 = 5000.0                                      # the signal's clock time of sample 0


def markers(*times, label=b"mk"):
    """Markers as LSL and EventSource send them: a time, index -1."""
    ev = np.zeros(len(times), event_dtype(16))
    ev["index"], ev["time"], ev["label"] = -1, times, label
    return ev


def feed(node, x, start, stop, size=100):
    """Signal chunks of ``x[start:stop]``, each stamped with its last sample's time."""
    for k in range(start, stop, size):
        node.on_signal(k + size, x[k:k + size], t=T0 + (k + size - 1) / FS)


def test_markers_that_carry_a_time_land_on_their_sample():
    g = Graph(pre=0.01, post=0.02)
    x = ramp(3000)
    g.node.on_events(0, markers(T0 + 0.150, T0 + 2.5))          # before any signal: they wait
    feed(g.node, x, 0, 2000)
    g.node.on_events(0, markers(T0 + 0.420, T0 + 1.2344))        # the signal is there already
    g.sink.wait_index(3)
    assert g.node._placer.pending == [(T0 + 2.5, b"mk")]         # beyond the signal: waits
    feed(g.node, x, 2000, 3000)
    g.sink.wait_index(4)
    got = g.sink.data()
    assert got["index"].tolist() == [150, 420, 1234, 2500]
    for rec in got:
        np.testing.assert_array_equal(rec["epoch"], x[rec["index"] - 10:rec["index"] + 20])
    assert g.node.rejected == 0
    g.close()


def test_marker_times_on_another_hosts_clock_are_converted():
    g = Graph(pre=0.01, post=0.02)
    x = ramp(2000)
    g.node.inputs["events"].params["clock_id"] = "elsewhere"     # its sender runs 3 s ahead
    saved = clock.offsets()
    clock.set_offsets({"elsewhere": {"offset": 3.0, "uncertainty": 0.001}}, reference=clock.clock_id())
    try:
        feed(g.node, x, 0, 2000)
        g.node.on_events(0, markers(T0 + 3.0 + 0.5))
        g.sink.wait_index(1)
        assert g.sink.data()["index"].tolist() == [500]
        clock.set_offsets({})                                    # no estimate: dropped, counted
        g.node.on_events(0, markers(T0 + 3.0 + 0.6))
        assert g.node.rejected == 1
    finally:
        clock.set_offsets(saved)
        g.close()


def test_gap_and_too_old_events_are_rejected_and_labels_filter():
    g = Graph(pre=0.005, post=0.005, buffer_duration=1.0, labels=["go"])
    x = ramp(3000)
    g.sig.send(x[:1000])
    g.sig.send(x[1200:2000], index=2000)       # gap 1000..1199
    wait_for(lambda: g.node.signal_index == 2000)
    g.ev.send(events(100))                      # no longer buffered (1 s kept)
    g.ev.send(events(1198, 1300, 1700))         # 1198 overlaps the gap
    g.ev.send(events(1800, label=b"other"))     # filtered out
    wait_for(lambda: g.node.rejected == 2 and g.sink.index == 2)
    got = g.sink.data()
    assert got["index"].tolist() == [1300, 1700]
    np.testing.assert_array_equal(got["epoch"][0], x[1295:1305])
    g.node.reset_average()
    assert g.node.n_epochs == 0 and not g.node.average.any()
    g.close()


def test_trigger_into_epocher_end_to_end():
    sig = source(dtype="float32", shape=(-1, 1), sample_rate=FS)
    trig = AnalogTrigger(name="trig")
    trig.configure(threshold=0.5)
    trig.input.connect(sig)
    trig.output.configure(protocol="inproc")
    trig.initialize()
    epo = Epocher()
    epo.configure(pre=0.002, post=0.003)
    epo.inputs["signal"].connect(sig)
    epo.inputs["events"].connect(trig.output)
    epo.output.configure(protocol="inproc")
    epo.initialize()
    sink = Sink(epo.output)
    epo.start()
    trig.start()
    x = np.zeros((2000, 1), "float32")
    x[500:600] = x[1500:1600] = 1.0
    for k in range(0, 2000, 64):
        sig.send(x[k:k + 64])
    sink.wait_index(2)
    np.testing.assert_array_equal(sink.data()["epoch"][:, :, 0], [[0, 0, 1, 1, 1]] * 2)
    for obj in (epo, trig, sig, sink):
        obj.close()


def test_wrong_inputs_are_refused():
    node = Epocher(name="epo")
    node.configure(pre=0.1, post=0.1)
    video = source(streamtype="video", shape=(-1, 2, 2))
    with pytest.raises(ValueError, match="cannot connect|streamtype"):
        node.inputs["signal"].connect(video)
    noindex = source(streamtype="event", dtype=[("stamp", "float64")])
    with pytest.raises(ValueError, match=r"node 'epo' input 'events'.*no integer 'index' nor numeric 'time'"):
        node.inputs["events"].connect(noindex)
    assert not node.inputs["events"].connected
    with pytest.raises(ValueError, match=r"pre \+ post must be > 0 s and finite, got 0.0"):
        Epocher().configure(pre=0, post=0)
    video.close()
    noindex.close()
    node.close()
    InputStream()
