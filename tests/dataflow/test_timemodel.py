"""TimeModel: the fitted line recovers a drifting clock under jitter, restarts at steps,
and never raises nor goes non-positive on any finite input."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from acqflow.dataflow.streams.timemodel import TimeModel
from acqflow.testing import examples


def feed_chunks(tm, fs, drift_ppm, jitter, seconds, chunk, t0=100.0, i0=0, seed=0):
    """Chunk stamps of a clock ``drift_ppm`` fast, each the last sample's true time + jitter."""
    rng = np.random.default_rng(seed)
    true_rate = fs * (1 + drift_ppm * 1e-6)
    for stop in range(i0 + chunk, i0 + int(seconds * fs), chunk):
        tm.update(stop, t0 + (stop - 1 - i0) / true_rate + rng.normal(0, jitter))
    return true_rate


@pytest.mark.parametrize("drift_ppm", [-50.0, 0.0, 80.0])
def test_fit_recovers_rate_and_offset_under_drift_and_1ms_jitter(drift_ppm):
    tm = TimeModel(1000.0)
    true_rate = feed_chunks(tm, 1000.0, drift_ppm, 1e-3, 60, 10)
    assert abs(tm.drift_ppm - drift_ppm) < 10            # 10 ppm from 30 s of 1 ms-jittered stamps
    assert tm.rate == pytest.approx(true_rate, rel=1e-5)
    assert abs(tm.offset - 100.0) < 1e-3 + 30 * 10e-6     # sample 0, extrapolated 30 s back
    assert tm.jitter == pytest.approx(1e-3, rel=0.2)
    # the line is better than any single stamp: its error on the newest sample is << 1 ms
    assert abs(tm.time_of(59_999) - (100.0 + 59_999 / true_rate)) < 3e-4
    d = tm.to_dict()
    assert d["rate"] == tm.rate and d["drift_ppm"] == tm.drift_ppm and d["resets"] == 0


def test_nominal_rate_until_the_stamps_determine_it():
    tm = TimeModel(1000.0)
    with pytest.raises(ValueError, match="no stamps"):
        tm.time_of(0)
    assert not tm.ready and tm.rate == 1000.0
    tm.update(10, 5.0)
    tm.update(20, 5.0103)          # two jittered stamps 10 ms apart: not enough for a rate
    assert tm.ready and tm.rate == 1000.0
    assert tm.time_of(19) == pytest.approx(5.00515 + 0.005)   # their mean, nominal slope


@pytest.mark.parametrize("fs", [1000.0, 3.2e6])
def test_a_wrong_nominal_rate_gives_way_to_the_stamps(fs):
    """A stream left at the default sample_rate (1 Hz) that really runs at ``fs``: the fit
    follows its stamps.  It restarted at every third stamp (each was a 'clock step' off the
    nominal line), so it never knew the rate and cost ~25 us per chunk on the data path."""
    tm = TimeModel(1.0)
    jitter = 1e-3 if fs < 1e4 else 5e-6
    true_rate = feed_chunks(tm, fs, 0.0, jitter, 20_000 * 32 / fs, 32)
    assert tm.resets <= 1 and tm.rate == pytest.approx(true_rate, rel=1e-3)
    last = 20_000 * 32 - 33                           # the newest stamp's sample
    assert abs(tm.time_of(last) - (100.0 + last / true_rate)) < jitter


def test_index_at_and_time_of_are_inverse():
    tm = TimeModel(30000.0)
    feed_chunks(tm, 30000.0, 30.0, 2e-4, 20, 900, t0=12345.0)
    idx = np.arange(0, 600_000, 997)
    assert (tm.index_at(tm.time_of(idx)) == idx).all()
    assert tm.index_at(tm.time_of(123_456)) == 123_456
    assert tm.index_at(tm.time_of(123_456) + 0.4 / tm.rate) == 123_456


def test_a_clock_step_restarts_the_fit():
    tm = TimeModel(1000.0)
    feed_chunks(tm, 1000.0, 0.0, 1e-4, 10, 10)
    assert tm.resets == 0
    # the clock jumps 2 s ahead at sample 10000; stamps keep coming
    feed_chunks(tm, 1000.0, 0.0, 1e-4, 10, 10, t0=112.0, i0=10_000)
    assert tm.resets == 1
    assert abs(tm.time_of(15_000) - 117.0) < 1e-3


def test_a_single_outlier_is_not_a_step():
    tm = TimeModel(1000.0)
    feed_chunks(tm, 1000.0, 0.0, 1e-4, 10, 10)
    tm.update(10_010, 200.0)                       # one wild stamp
    feed_chunks(tm, 1000.0, 0.0, 1e-4, 5, 10, t0=110.01, i0=10_010)
    assert tm.resets == 0
    assert abs(tm.time_of(12_000) - 112.0) < 1e-3


def test_an_index_gap_with_matching_time_keeps_the_line():
    tm = TimeModel(1000.0)
    feed_chunks(tm, 1000.0, 0.0, 1e-4, 10, 10)
    feed_chunks(tm, 1000.0, 0.0, 1e-4, 10, 10, t0=120.0, i0=20_000)   # 10 s lost, clock intact
    assert tm.resets == 0 and abs(tm.time_of(25_000) - 125.0) < 1e-3


def test_per_sample_stamps_and_reset():
    tm = TimeModel(500.0)
    i = np.arange(20_000)
    tm.add(i, 3.0 + i / 500.01 + np.random.default_rng(1).normal(0, 1e-3, i.size))
    assert abs(tm.drift_ppm - 20) < 10
    tm.reset()
    assert not tm.ready and tm.resets == 1


def test_window_and_point_bounds_hold():
    tm = TimeModel(1000.0, window=2.0, max_points=100)
    feed_chunks(tm, 1000.0, 0.0, 1e-4, 30, 5)
    assert tm.n_points <= 100
    tm = TimeModel(1000.0, window=2.0)
    feed_chunks(tm, 1000.0, 0.0, 1e-4, 30, 5)
    assert tm.n_points <= 2.0 * 1000 / 5 + 1


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, "x", None])
def test_bad_nominal_rate_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match="nominal_rate"):
        TimeModel(bad)


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


@settings(max_examples=examples(200), deadline=None)
@given(rate=st.floats(min_value=1e-3, max_value=1e7),
       stamps=st.lists(st.tuples(st.integers(-(1 << 63), 1 << 63), finite), max_size=200),
       per_sample=st.booleans())
def test_never_raises_nor_goes_non_positive(rate, stamps, per_sample):
    tm = TimeModel(rate)
    if per_sample:
        tm.add([min(max(i, -(1 << 62)), 1 << 62) for i, _ in stamps], [t for _, t in stamps])
    else:
        for i, t in stamps:
            tm.update(i, t)
    assert tm.rate > 0 and math.isfinite(tm.rate)
    d = tm.to_dict()
    if tm.ready:
        assert math.isfinite(d["offset"]) or abs(d["index"]) > 1e15
        tm.index_at(d["time"])
        tm.time_of(d["index"])


def test_update_takes_numpy_and_float_indexes_and_skips_what_is_not_a_stamp():
    tm = TimeModel(100.0)
    for k in range(1, 200):
        index = (np.int64(k * 10), float(k * 10), k * 10)[k % 3]
        tm.update(index, k * 0.1)
    tm.update("ten", 1.0)              # neither is a stamp: skipped, nothing else lost
    tm.update(10 ** 30, 1.0)
    tm.update(2000, "later")
    assert tm.ready and tm.rate == pytest.approx(100.0)
    assert tm.time_of(1989) == pytest.approx(19.9)
