"""Decimate / Resample: scipy.signal.decimate on the whole stream, absolute indexes, rates."""
import numpy as np
import pytest
from scipy import signal

from acqflow.nodes import Decimate, Resample
from tests.nodes.util import Pipeline, random_sizes, source

FS = 3000.0


def noise(n, ch=2, seed=0):
    return np.random.default_rng(seed).standard_normal((n, ch)).astype("float32")


@pytest.mark.parametrize("factor", [1, 3, 10])
def test_equals_scipy_decimate_on_the_whole_stream(factor):
    x = noise(9001)
    p = Pipeline(Decimate(name="dec"), dict(dtype="float32", shape=(-1, 2), sample_rate=FS),
                 factor=factor)
    assert p.node.output.params["sample_rate"] == FS / factor
    sizes = random_sizes(np.random.default_rng(factor), len(x), high=50)
    p.send_chunked(x, sizes)
    n_out = -(-len(x) // factor)
    p.sink.wait_index(n_out)
    out = p.sink.data()
    ref = x.astype(float) if factor == 1 else signal.decimate(x.astype(float), factor, axis=0,
                                                               zero_phase=False)
    assert out.shape == (n_out, 2)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    # each chunk's output index is ceil(input index / factor); chunks without a kept
    # sample send nothing
    ends = np.minimum(np.cumsum(sizes), len(x))
    expected = sorted({-(-int(e) // factor) for e in ends} - {0})
    assert [i for i, _ in p.sink.chunks] == expected
    p.close()


def test_gap_maps_to_an_output_gap_and_restarts_the_filter():
    x = noise(4000, 1, seed=2)
    p = Pipeline(Decimate(), dict(dtype="float32", shape=(-1, 1), sample_rate=FS), factor=4)
    p.send(x[:1000])
    p.send(x[1999:3000], index=3000)            # 999 samples lost: 1000..1998
    p.send(x[3000:])
    p.sink.wait_index(1000)
    assert [i for i, _ in p.sink.chunks] == [250, 750, 1000]
    assert p.sink.input.gaps == 1
    out = p.sink.data()
    sos = p.node.sos
    first = signal.sosfilt(sos, x[:1000, 0].astype(float))[::4]
    # after the gap the filter restarts at sample 1999; kept samples are multiples of 4
    second = signal.sosfilt(sos, x[1999:, 0].astype(float))[1::4]
    np.testing.assert_allclose(out[:250, 0], first, atol=1e-5)
    np.testing.assert_allclose(out[250:, 0], second, atol=1e-5)
    p.close()


def test_resample_to_an_integer_fraction_of_the_rate():
    x = noise(3000)
    p = Pipeline(Resample(), dict(dtype="float32", shape=(-1, 2), sample_rate=FS), sample_rate=500.0)
    assert p.node.output.params["sample_rate"] == 500.0 and p.node.q == 6
    p.send(x)
    p.sink.wait_index(500)
    np.testing.assert_allclose(p.sink.data(), signal.decimate(x.astype(float), 6, axis=0, zero_phase=False),
                               atol=1e-5)
    p.close()
    node = Resample(name="rs")
    node.configure(sample_rate=700.0)
    src = source(dtype="float32", shape=(-1, 2), sample_rate=FS)
    with pytest.raises(ValueError, match=r"node 'rs': sample_rate=700 does not divide .* 3000"):
        node.input.connect(src)
    assert not node.input.connected
    with pytest.raises(ValueError, match="factor must be an int"):
        Decimate().configure(factor=2.5)
    src.close()
    node.close()
