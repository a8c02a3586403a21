"""Unit tests of the clock offset/drift estimator and the per-process offsets table."""
import os
import subprocess
import sys

import numpy as np
import pytest

from acqflow.dataflow.streams import clock
from acqflow.dataflow.streams.clock import ClockEstimate
from acqflow.rpc.clocksync import ClockEstimator


def _probes(n, offset, drift=0.0, t_start=1000.0, period=0.5, fwd=2e-3, back=0.2e-3, seed=0):
    """(t0, t_remote, t1) probes with exponential one-way delays of different means
    (asymmetric), a fixed processing floor, and a remote clock off by offset + drift * t."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t0 = t_start + i * period
        d1 = 50e-6 + rng.exponential(fwd)
        d2 = 50e-6 + rng.exponential(back)
        t_true = t0 + d1
        out.append((t0, t_true + offset + drift * (t_true - t_start), t_true + d2))
    return out


def test_asymmetric_delays_error_within_uncertainty():
    est = ClockEstimator(window=200, k=8)
    for p in _probes(200, offset=0.250, period=0.05):
        est.add(*p)
    e = est.estimate()
    assert e.drift == 0.0                               # 10 s span < min_drift_span
    assert abs(e.offset - 0.250) <= e.uncertainty
    assert e.uncertainty < 0.2e-3                       # the best probe's rtt / 2
    # a naive mean over all probes is biased by the asymmetry (that is why min-RTT)
    naive = np.mean([tr - (t0 + t1) / 2 for t0, tr, t1 in _probes(200, 0.250, period=0.05)])
    assert abs(naive - 0.250) > 5 * abs(e.offset - 0.250)


def test_drift_is_fitted_over_the_window():
    drift = 50e-6                                       # 50 ppm: 5 ms over 100 s
    probes = _probes(300, offset=-0.1, drift=drift, period=0.4)
    est = ClockEstimator(window=300, k=8, min_drift_span=20.0)
    for p in probes:
        est.add(*p)
    e = est.estimate()
    assert abs(e.drift - drift) < 5e-6
    t_end = probes[-1][0]
    truth = -0.1 + drift * (t_end - probes[0][0])
    assert abs(e.at(t_end) - truth) < 0.3e-3


def test_sliding_window_follows_a_step():
    est = ClockEstimator(window=50, k=5)
    for p in _probes(100, offset=0.0):
        est.add(*p)
    for p in _probes(50, offset=0.010, t_start=1100.0, seed=1):
        est.add(*p)
    assert abs(est.estimate().offset - 0.010) < 0.3e-3
    assert len(est) == 50 and est.n_probes == 150


def test_estimator_rejects_bad_input():
    with pytest.raises(ValueError, match="window"):
        ClockEstimator(window=0)
    est = ClockEstimator()
    assert est.estimate() is None
    with pytest.raises(ValueError, match="before its send time"):
        est.add(2.0, 1.5, 1.0)


def test_offsets_table_converts_between_two_remote_clocks(monkeypatch):
    own = clock.clock_id()
    try:
        # reference = a manager; this process runs 0.1 s ahead of it, host B 0.35 s ahead
        clock.set_offsets({own: {"offset": 0.1, "uncertainty": 1e-4},
                           "hostB": ClockEstimate(0.35, 2e-4, 1e-5, 500.0)}, reference="manager")
        off, unc = clock.offset_to("hostB", t=500.0)
        assert off == pytest.approx(0.25) and unc == pytest.approx(3e-4)
        assert clock.to_local(600.25, "hostB") == pytest.approx(600.25 - 0.25 - 1e-5 * 100, abs=1e-5)
        assert clock.offset_to(own) == (0.0, 0.0)
        assert clock.offset_to("unknown") is None
        with pytest.raises(KeyError, match="unknown"):
            clock.to_local(1.0, "unknown")
    finally:
        clock.set_offsets({})


def test_env_offset_hook_shifts_now_and_the_clock_id():
    code = "from acqflow.dataflow.streams import clock; import time; print(clock.now() - time.time(), clock.clock_id())"
    env = dict(os.environ, ACQFLOW_CLOCK_OFFSET="0.25")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    shift, cid = out.stdout.split()
    assert abs(float(shift) - 0.25) < 0.01 and cid != clock.clock_id()
    env["ACQFLOW_CLOCK_OFFSET"] = "soon"
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "ACQFLOW_CLOCK_OFFSET" in bad.stderr
