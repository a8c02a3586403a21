"""AnalogTrigger / DigitalTrigger: the issue's bouncing signal, any chunking, fronts, gaps, checks."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from acqflow.nodes import AnalogTrigger, DigitalTrigger
from acqflow.nodes.triggers import EdgeDetector
from acqflow.testing import examples
from tests.nodes.util import Pipeline, source

FS = 1000.0
EXPECTED = {
    "no-debounce": [1001, 2001, 3001, 3015, 3025, 4001],
    "after-stable": [1001, 2001, 3025, 4001],
    "before-stable": [1001, 2001, 3001, 4001],
}


def bouncing(n=5000, ch=2):
    """2.0 during (i, i+0.4) s for i = 1..4, back to 0 during 3.010-3.015 s and 3.020-3.025 s."""
    x = np.zeros((n, ch), "float32")
    for i in range(1, 5):
        x[i * 1000 + 1:i * 1000 + 400, 0] = 2.0
    x[3010:3015, 0] = 0.0
    x[3020:3025, 0] = 0.0
    x[:, 1] = -x[:, 0]                               # channel 1: the mirror image
    return x


def events_of(sink):
    return [int(i) for i in sink.data()["index"]] if sink.chunks else []


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_bouncing_signal_through_streams(mode):
    p = Pipeline(AnalogTrigger(name="trig"), dict(dtype="float32", shape=(-1, 2), sample_rate=FS),
                 channel=0, threshold=1.0, front="+", debounce_time=0.1, debounce_mode=mode)
    out = p.node.output.params
    assert out["streamtype"] == "event" and out["sample_rate"] == FS
    p.send_chunked(bouncing(), [37] * 200)
    p.sink.wait_index(len(EXPECTED[mode]))
    assert events_of(p.sink) == EXPECTED[mode]
    assert set(p.sink.data()["label"]) == {b"+"}
    p.close()


def feed_all(node, x, sizes):
    got, k = [], 0
    for n in sizes:
        if k >= len(x):
            break
        for _, ev in node.feed(k + len(x[k:k + n]), x[k:k + n]):
            got += ev["index"].tolist()
        k += n
    if k < len(x):
        for _, ev in node.feed(len(x), x[k:]):
            got += ev["index"].tolist()
    return got


def initialized(**config):
    node = AnalogTrigger()
    node.configure(**config)
    src = source(dtype="float32", shape=(-1, 2), sample_rate=FS)
    node.input.connect(src)
    node.initialize()
    return node, src


@settings(max_examples=examples(60), deadline=None)
@given(sizes=st.lists(st.integers(1, 1200), min_size=1, max_size=60),
       mode=st.sampled_from(list(EXPECTED)))
def test_results_identical_for_any_chunking(sizes, mode):
    """The node's worker path (``feed``: gap detection + processing) over any chunking."""
    node, src = initialized(threshold=1.0, front="+", debounce_time=0.1, debounce_mode=mode)
    assert feed_all(node, bouncing(), sizes) == EXPECTED[mode]
    node.close()
    src.close()


@settings(max_examples=examples(100), deadline=None)
@given(on=st.lists(st.booleans(), min_size=1, max_size=300), d=st.integers(0, 12),
       cuts=st.lists(st.integers(1, 300), max_size=20),
       mode=st.sampled_from(list(EXPECTED)))
def test_edge_detector_chunking_invariance_and_definition(on, d, cuts, mode):
    on = np.array(on)
    whole = EdgeDetector(d, mode).push(on, 0).tolist()
    det, got = EdgeDetector(d, mode), []
    bounds = sorted({0, len(on), *[c for c in cuts if c < len(on)]})
    for a, b in zip(bounds[:-1], bounds[1:]):
        got += det.push(on[a:b], a).tolist()
    assert got == whole
    # the definitions, sample by sample
    trans = [k for k in range(1, len(on)) if on[k] != on[k - 1]]
    rising = [k for k in trans if on[k]]
    if mode == "no-debounce":
        ref = rising
    elif mode == "after-stable":
        ref = [k for k in rising if k + d <= len(on) and on[k:k + d].all()]
    else:
        ref = [k for k in rising if all(not (k - d < t < k) for t in trans)]
    assert whole == ref


def test_falling_front_and_other_channel():
    node, src = initialized(channel=1, threshold=-1.0, front="-")
    assert feed_all(node, bouncing(), [5000]) == EXPECTED["no-debounce"]
    node.close()
    src.close()
    node, src = initialized(channel=0, threshold=1.0, front="-")
    assert feed_all(node, bouncing(), [333] * 20) == [1400, 2400, 3010, 3020, 3400, 4400]
    node.close()
    src.close()


def test_gap_reports_no_edge_across_it_and_drops_unconfirmed_candidates():
    x = bouncing()
    p = Pipeline(AnalogTrigger(), dict(dtype="float32", shape=(-1, 2), sample_rate=FS),
                 threshold=1.0, debounce_time=0.1, debounce_mode="after-stable")
    p.send(x[:1050])                            # the edge at 1001 is not yet confirmed (1101)
    p.send(x[1500:2500], index=2500)            # the gap: 1050..1499; 2001 is confirmed
    p.send(x[2500:])
    p.sink.wait_index(3)
    assert events_of(p.sink) == [2001, 3025, 4001]
    p.close()


def test_digital_trigger_on_packed_bits():
    bits = (bouncing()[:, 0] > 1).astype(np.uint8)
    data = np.zeros((len(bits), 2), np.uint8)
    data[:, 1] = bits << 3                      # bit 11 = byte 1, bit 3
    data[:, 0] = 0xFF                           # other bits constantly on
    p = Pipeline(DigitalTrigger(name="dig"), dict(streamtype="digitalsignal", shape=(-1, 2),
                                                   sample_rate=FS),
                 channel=11, front="+", debounce_time=0.1, debounce_mode="before-stable",
                 label="ttl")
    p.send_chunked(data, [100] * 50)
    p.sink.wait_index(4)
    got = p.sink.data()
    assert got["index"].tolist() == EXPECTED["before-stable"] and set(got["label"]) == {b"ttl"}
    p.close()
    node = DigitalTrigger(name="dig")
    node.configure(channel=16)
    src = source(streamtype="digitalsignal", shape=(-1, 2), sample_rate=FS)
    with pytest.raises(ValueError, match=r"node 'dig'.*bit\) 16 is not within the input's 16 bits"):
        node.input.connect(src)
    analog = source(dtype="float32", shape=(-1, 2), sample_rate=FS)
    with pytest.raises(ValueError, match=r"requires 'digitalsignal', output src gives 'analogsignal'"):
        node.input.connect(analog)
    for s in (src, analog):
        s.close()
    node.close()


def test_bad_parameters():
    node = AnalogTrigger(name="t")
    with pytest.raises(ValueError, match="front='.*' is not one of \\+, -"):
        node.configure(front="up")
    with pytest.raises(ValueError, match="debounce_mode='sometimes'"):
        node.configure(debounce_mode="sometimes")
    node.configure(channel=5)
    src = source(dtype="float32", shape=(-1, 2), sample_rate=FS)
    with pytest.raises(ValueError, match="node 't': channel 5 is not within the input's 2 channels"):
        node.input.connect(src)
    src.close()
    node.close()
