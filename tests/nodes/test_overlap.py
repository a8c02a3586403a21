"""OverlapFiltfilt: equals sosfiltfilt on the whole signal (and per gap-free segment), fixed latency."""
import numpy as np
import pytest
from scipy import signal

from acqflow.nodes import OverlapFiltfilt
from acqflow.nodes.design import design_sos
from acqflow.nodes.overlap import FiltfiltState
from tests.nodes.util import Pipeline, random_sizes

FS = 1000.0
DESIGN = dict(btype="bandpass", freq=[5.0, 50.0], order=3)


def noise(n, ch=3, seed=0):
    return (np.random.default_rng(seed).standard_normal((n, ch)) + 4.0).astype("float32")


def test_whole_stream_equals_sosfiltfilt_with_the_documented_tolerance():
    x = noise(12000)
    p = Pipeline(OverlapFiltfilt(name="ff"), dict(dtype="float32", shape=(-1, 3), sample_rate=FS),
                 **DESIGN)
    node = p.node
    assert node.delay > 0 and node.max_latency == node.delay + node.block
    assert node.delay_s == pytest.approx(node.delay / FS)
    p.send_chunked(x, random_sizes(np.random.default_rng(2), len(x), high=400))
    # latency: after the last chunk, everything older than `max_latency` has left, and
    # nothing newer than `delay` has
    p.sink.wait_index(len(x) - node.max_latency)
    assert p.sink.index <= len(x) - node.delay
    p.end()                                     # end of stream: the tail is flushed
    p.sink.wait_index(len(x))
    out = p.sink.data()
    ref = signal.sosfiltfilt(design_sos(FS, **DESIGN), x.astype(float), axis=0)
    assert out.shape == x.shape and out.dtype == np.float32
    # float32 output; the early backward start has decayed below tol=1e-7 of the peak
    np.testing.assert_allclose(out, ref, rtol=1e-6, atol=2e-6 * np.abs(ref).max())
    p.close()


@pytest.mark.parametrize("margin", [0.05, 0.2, 0.5, 0.8])
def test_tolerance_follows_the_margin(margin):
    """A short look-ahead trades accuracy for latency: the error relative to the peak is
    within 5x the impulse response's tail beyond the margin (relative to its peak)."""
    x = noise(6000).astype(float)
    sos = design_sos(FS, **DESIGN)
    m = int(margin * FS)
    st = FiltfiltState(sos, m, m)
    out = [st.push(x[k:k + 100]) for k in range(0, len(x), 100)] + [st.flush()]
    out = np.concatenate([o for o in out if o is not None])
    ref = signal.sosfiltfilt(sos, x, axis=0)
    err = np.abs(out - ref).max() / np.abs(ref).max()
    h = np.abs(signal.sosfilt(sos, np.r_[1.0, np.zeros(len(x))]))
    tail = h[m:].max() / h.max()
    assert err <= 5 * tail
    assert err > tail / 10                    # and the bound is not vacuous


def test_each_gap_free_segment_equals_sosfiltfilt_of_that_segment():
    x = noise(7000, 2, seed=5)
    p = Pipeline(OverlapFiltfilt(), dict(dtype="float32", shape=(-1, 2), sample_rate=FS), **DESIGN)
    p.send_chunked(x[:3000], [250] * 12)
    p.send(x[3500:3600], index=3600)           # a gap of 500 samples
    p.send_chunked(x[3600:], [333] * 20)
    p.end()
    p.sink.wait_index(7000)
    sos = design_sos(FS, **DESIGN)
    chunks = p.sink.chunks
    assert p.sink.input.gaps == 1
    first = np.concatenate([d for i, d in chunks if i <= 3000])
    second = np.concatenate([d for i, d in chunks if i > 3000])
    assert len(first) == 3000 and len(second) == 3500
    for got, seg in ((first, x[:3000]), (second, x[3500:])):
        ref = signal.sosfiltfilt(sos, seg.astype(float), axis=0)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=2e-6 * np.abs(ref).max())
    p.close()


def test_short_segments_and_explicit_margin():
    x = noise(40, 1).astype(float)
    sos = design_sos(FS, **DESIGN)
    for n in (1, 2, 10, 40):
        st = FiltfiltState(sos, 1000, 1000)   # segment shorter than the margin
        out = [st.push(x[:n]), st.flush()]
        out = np.concatenate([o for o in out if o is not None])
        ref = signal.sosfiltfilt(sos, x[:n], axis=0, padlen=min(n - 1, st.padlen))
        np.testing.assert_allclose(out, ref, atol=1e-9)
    node = OverlapFiltfilt()
    with pytest.raises(ValueError, match="margin must be > 0"):
        node.configure(margin=-1, **DESIGN)
    node.close()
