"""EventSource: programmatic and keyboard markers as an event stream."""
import io
import os

import numpy as np
import pytest

from acqflow import InputStream, NodeStateError
from acqflow.dataflow.streams import clock
from acqflow.devices import EventSource, event_dtype


def make(**kw):
    node = EventSource(name="markers")
    node.configure(**kw)
    node.output.configure(protocol="inproc")
    node.initialize()
    inp = InputStream()
    inp.connect(node.output)
    return node, inp


def collect(inp, n):
    events = []
    while len(events) < n:
        events.extend(inp.recv(timeout=10000)[1].tolist())
    return events


def test_push_event_sends_index_time_label():
    node, inp = make()
    p = node.output.params
    assert p["streamtype"] == "event" and p["shape"] == (-1,)
    assert np.dtype([tuple(f) for f in p["dtype"]]) == event_dtype(16)
    with pytest.raises(NodeStateError, match="start\\(\\) it first"):
        node.push_event("early")
    node.start()
    before = clock.now()
    node.push_event("stim on")
    node.push_event(b"stim off", time=123.5, index=42)
    with pytest.raises(ValueError, match="more than label_size=16"):
        node.push_event("x" * 17)
    events = collect(inp, 2)
    node.close()
    assert events[0][0] == -1 and before <= events[0][1] <= clock.now() and events[0][2] == b"stim on"
    assert events[1] == (42, 123.5, b"stim off")


def test_reference_rate_maps_times_to_sample_indexes():
    node, inp = make(reference_rate=1000.0, reference_start=100.0, label_size=8)
    assert node.output.params["reference_rate"] == 1000.0
    node.start()
    node.push_event("a", time=100.25)
    node.push_event("b", time=101.0)
    events = collect(inp, 2)
    node.stop()
    node.start()                             # indexes of the event stream stay absolute
    node.push_event("c", time=102.0)
    index, data = inp.recv(timeout=10000)
    node.close()
    assert [(e[0], e[2]) for e in events] == [(250, b"a"), (1000, b"b")]
    assert index == 3 and data["index"][0] == 2000


def test_keyboard_lines_become_events():
    rfd, wfd = os.pipe()
    reader = os.fdopen(rfd, "r")
    node, inp = make(keyboard=reader)
    node.start()
    with os.fdopen(wfd, "w") as w:
        w.write("left\n\nright\n")
    events = collect(inp, 2)
    node.close()
    reader.close()
    assert [e[2] for e in events] == [b"left", b"right"]


def test_events_pushed_just_before_stop_are_sent():
    node, inp = make()
    node.start()
    for k in range(50):
        node.push_event(f"e{k}")
    node.stop()
    labels = [e[2] for e in collect(inp, 50)]
    node.close()
    assert labels == [f"e{k}".encode() for k in range(50)]


@pytest.mark.parametrize("kw, message", [
    ({"label_size": 0}, "label_size must be an int in 1..1024"),
    ({"reference_rate": 0}, "reference_rate must be > 0"),
    ({"keyboard": 3}, "keyboard must be True, False or a text stream"),
])
def test_bad_parameters(kw, message):
    with pytest.raises(ValueError, match=message):
        EventSource().configure(**kw)


def test_text_stream_keyboard_ends_quietly():
    node, inp = make(keyboard=io.StringIO("one\ntwo\n"))
    node.start()
    assert [e[2] for e in collect(inp, 2)] == [b"one", b"two"]
    node.close()
    assert node.state == "closed"
