"""MinMaxEnvelope: incremental per-bucket min/max equals the direct computation."""
import numpy as np

from acqflow.viewers.envelope import MinMaxEnvelope, bucket_size


def direct(x, k, b):
    seg = x[b * k:(b + 1) * k]
    return seg.min(0), seg.max(0)


def test_chunked_feed_matches_direct_minmax():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5000, 3)).astype(np.float32)
    env = MinMaxEnvelope(3, 7, 100)
    i = 0
    for n in rng.integers(1, 40, 400):
        env.feed(x[i:i + n], i)
        i += int(n)
        if i >= 5000:
            break
    i = min(i, 5000)
    x = x[:i]
    newest = env.last_bucket()
    for b in range(newest - 99, newest):          # complete buckets
        lo, hi = direct(x, 7, b)
        np.testing.assert_array_equal(env.mins[b % 100], lo)
        np.testing.assert_array_equal(env.maxs[b % 100], hi)
    lo, hi = direct(x, 7, newest)                 # the partial newest bucket
    np.testing.assert_array_equal(env.mins[newest % 100], lo)
    assert list(env.scroll_order())[-1] == newest % 100


def test_one_sample_spike_survives_decimation():
    x = np.zeros((30000, 1), np.float32)
    x[12345] = 5.0
    env = MinMaxEnvelope(1, bucket_size(30000, 800), 800)
    for i in range(0, 30000, 300):
        env.feed(x[i:i + 300], i)
    assert np.nanmax(env.maxs) == 5.0
    assert np.nansum(env.maxs == 5.0) == 1


def test_gap_buckets_are_unseen_and_long_gaps_reset():
    env = MinMaxEnvelope(1, 10, 10)
    env.feed(np.ones((30, 1), np.float32), 0)
    env.feed(np.ones((10, 1), np.float32), 60)      # samples 30..59 missing
    assert np.isnan(env.mins[3]) and np.isnan(env.mins[4]) and env.mins[6] == 1
    env.feed(np.full((5, 1), 2, np.float32), 1000)  # far beyond the window: reset
    assert np.nanmax(env.maxs) == 2 and env.next == 1005
