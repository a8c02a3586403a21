"""TimeFrequency: sinusoid amplitudes, equality with a direct convolution, chunking, gaps."""
import numpy as np
import pytest

from acqflow.nodes import TimeFrequency
from acqflow.nodes.timefreq import morlet_kernels
from tests.nodes.util import Pipeline, random_sizes, source

FS = 500.0
CONFIG = dict(channels=[0, 2], freqs=[10.0, 20.0, 40.0], f0=2.5, out_rate=50.0)


def sines(n):
    t = np.arange(n) / FS
    x = np.zeros((n, 3), "float32")
    x[:, 0] = 3.0 * np.sin(2 * np.pi * 20.0 * t)
    x[:, 1] = 100.0                                            # not selected
    x[:, 2] = 1.0 * np.sin(2 * np.pi * 40.0 * t) + 0.5 * np.sin(2 * np.pi * 10.0 * t)
    return x


def direct(x, channels, freqs, q):
    """Reference: np.convolve with the same kernels, zero-padded ends, every q-th sample."""
    kernels, half = morlet_kernels(freqs, FS, 2.5, 3.0)
    cols = [np.abs(np.convolve(x[:, c].astype(float), k, mode="same"))
            for c in channels for k in kernels]
    return np.stack(cols, axis=1)[::q]


def test_stream_equals_direct_convolution_and_measures_amplitudes():
    x = sines(4000)
    p = Pipeline(TimeFrequency(name="tf"), dict(dtype="float32", shape=(-1, 3), sample_rate=FS),
                 **CONFIG)
    params = p.node.output.params
    assert params["shape"] == (-1, 6) and params["sample_rate"] == 50.0
    assert params["freqs"] == [10.0, 20.0, 40.0] and params["tf_channels"] == [0, 2]
    assert params["channel_info"][4] == {"name": "ch2 20Hz"}
    assert p.node.delay == int(np.ceil(3 * 2.5 / 10.0 * FS))
    p.send_chunked(x, random_sizes(np.random.default_rng(0), len(x), high=300))
    p.sink.wait_index((len(x) - p.node.delay - p.node.hop) // 10)
    p.end()                                       # flush the last `delay` samples
    p.sink.wait_index(400)
    out = p.sink.data()
    ref = direct(x, [0, 2], [10.0, 20.0, 40.0], 10)
    assert out.shape == ref.shape == (400, 6)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    mid = out[100:300]                            # away from the zero-padded edges
    np.testing.assert_allclose(mid[:, 1], 3.0, rtol=0.01)     # ch0 at 20 Hz
    np.testing.assert_allclose(mid[:, 5], 1.0, rtol=0.01)     # ch2 at 40 Hz
    np.testing.assert_allclose(mid[:, 3], 0.5, rtol=0.02)     # ch2 at 10 Hz
    assert mid[:, 0].max() < 0.05 and mid[:, 2].max() < 0.05
    p.close()


def test_gap_splits_into_segments_and_power_output():
    x = sines(3000)
    p = Pipeline(TimeFrequency(), dict(dtype="float32", shape=(-1, 3), sample_rate=FS),
                 output="power", hop=0.1, **CONFIG)
    p.send(x[:1000])
    p.send(x[1500:], index=3000)
    p.end()
    p.sink.wait_index(300)
    idx = [i for i, _ in p.sink.chunks]
    assert 100 in idx and p.sink.input.gaps == 1
    out = p.sink.data()
    assert len(out) == 100 + 150
    ref1 = direct(x[:1000], [0, 2], CONFIG["freqs"], 10) ** 2
    ref2 = direct(x[1500:], [0, 2], CONFIG["freqs"], 10) ** 2
    np.testing.assert_allclose(out, np.concatenate([ref1, ref2]), rtol=1e-4, atol=1e-3)
    p.close()


def test_bad_configuration():
    node = TimeFrequency(name="tf")
    with pytest.raises(ValueError, match="f_start < f_stop"):
        node.configure(f_start=10, f_stop=5)
    node.configure(channels=[3], freqs=[10.0])
    src = source(dtype="float32", shape=(-1, 3), sample_rate=FS)
    with pytest.raises(ValueError, match=r"node 'tf': channels \[3\] are not within the input's 3"):
        node.input.connect(src)
    node.configure(channels=[0], freqs=[300.0])
    with pytest.raises(ValueError, match="Nyquist"):
        node.input.connect(src)
    src.close()
    node.close()
