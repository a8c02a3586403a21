"""EventPlacer: markers that carry a time land on the signal sample of that time, whatever
the stamps' jitter and the clock's drift, and whichever of event and signal comes first."""
import numpy as np
import pytest

from acqflow.dataflow.streams.eventplace import EventPlacer, event_fields, split_events
from acqflow.devices.events import event_dtype

FS = 1000.0


def chunks(n_chunks, size=10, t0=100.0, jitter=0.001, ppm=0.0, seed=0):
    """(index_stop, stamp of its last sample) of a signal at FS whose clock runs ``ppm``
    off (true time of sample i: t0 + i / (FS (1 + ppm 1e-6))), stamps jittered."""
    rng = np.random.default_rng(seed)
    stops = np.arange(1, n_chunks + 1) * size
    true = t0 + (stops - 1) / (FS * (1 + ppm * 1e-6))
    return stops, true + rng.normal(0, jitter, n_chunks), lambda i: t0 + i / (FS * (1 + ppm * 1e-6))


def markers(times, labels=None):
    ev = np.zeros(len(times), event_dtype(16))
    ev["index"], ev["time"] = -1, times
    ev["label"] = labels if labels is not None else b"m"
    return ev


@pytest.mark.parametrize("ppm", [0.0, 80.0])
def test_markers_land_on_the_sample_of_their_time(ppm):
    stops, stamps, true_time = chunks(1500, ppm=ppm)      # 15 s, 1 ms jitter per stamp
    want = np.arange(500, 14500, 47)
    placer = EventPlacer(FS)
    got = {}
    ev = markers(true_time(want), [str(i).encode() for i in want])
    k = 0
    for stop, t in zip(stops, stamps):
        for i, label in placer.signal(int(stop), float(t)):
            got[int(label)] = i
        # each marker arrives 3 chunks after its sample was taken (it waits for nothing)
        while k < len(want) and want[k] + 30 < stop:
            for i, label in placer.add(*split_events(ev[k:k + 1])):
                got[int(label)] = i
            k += 1
    assert len(got) == len(want) and not placer.pending
    err = np.array([got[i] - i for i in want])
    assert np.mean(err == 0) >= 0.99 and np.abs(err).max() <= 1


def test_a_marker_waits_until_the_signal_covers_its_time():
    placer = EventPlacer(FS)
    ev = markers([100.0 + 0.025, 100.0 + 0.5])
    assert placer.add(*split_events(ev)) == []            # no signal yet
    assert placer.signal(10, 100.009) == []
    assert placer.signal(20, 100.019) == []
    assert placer.signal(30, 100.029) == [(25, b"m")]      # covers 25
    assert placer.pending == [(100.5, b"m")]
    assert placer.add(*split_events(markers([100.001]))) == [(1, b"m")]   # already covered


def test_placement_does_not_depend_on_arrival_order():
    stops, stamps, true_time = chunks(500, jitter=0.002, seed=3)
    ev = markers(true_time(np.arange(50, 4900, 37)) + 0.0004)
    first = EventPlacer(FS)                     # every marker before the signal
    early = first.add(*split_events(ev))
    for stop, t in zip(stops, stamps):
        early += first.signal(int(stop), float(t))
    second = EventPlacer(FS)                    # every marker after the signal
    for stop, t in zip(stops, stamps):
        second.signal(int(stop), float(t))
    late = second.add(*split_events(ev))
    assert sorted(early) == sorted(late) and len(late) == len(ev)


def test_indexes_pass_through_and_bad_times_are_dropped():
    placer = EventPlacer(FS)
    ev = markers([np.nan, 5.0])
    ev["index"][1] = 42
    assert placer.add(*split_events(ev)) == [(42, b"m")]
    assert placer.dropped == 1
    assert placer.add(*split_events(np.array([7, 8]))) == [(7, b""), (8, b"")]


def test_event_fields():
    assert event_fields("int64") is None
    assert event_fields(event_dtype(8).descr) is None
    assert event_fields([("time", "float64")]) is None
    assert "no integer 'index' nor numeric 'time'" in event_fields([("stamp", "float64")])
    assert "neither" in event_fields("float32")
