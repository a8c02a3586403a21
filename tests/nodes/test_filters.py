"""SosFilter: chunked output equals scipy's sosfilt on the whole signal; live changes; gaps; checks."""
import numpy as np
import pytest
from scipy import signal

from acqflow.nodes import SosFilter
from acqflow.nodes.design import design_sos
from tests.nodes.util import Pipeline, random_sizes, source

FS = 1000.0


def noise(n, ch=4, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, ch)) + offset).astype("float32")


@pytest.mark.parametrize("design", [
    dict(btype="bandpass", freq=[10, 100], order=4),
    dict(btype="lowpass", freq=40, order=6, ftype="cheby1", rp=0.5),
    dict(btype="highpass", freq=5),
    dict(btype="notch", freq=50, Q=20),
])
def test_chunked_output_equals_sosfilt_on_the_whole_signal(design):
    x = noise(6000, offset=3.0)
    p = Pipeline(SosFilter(name="filt"), dict(dtype="float32", shape=(-1, 4), sample_rate=FS), **design)
    p.send_chunked(x, random_sizes(np.random.default_rng(1), len(x)))
    p.sink.wait_index(len(x))
    ref = signal.sosfilt(design_sos(FS, **design), x.astype(np.float64), axis=0)
    out = p.sink.data()
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(out, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())
    assert [i for i, _ in p.sink.chunks][-1] == len(x) and p.sink.input.gaps == 0
    p.close()


def test_explicit_sos_int_input_and_output_params():
    sos = signal.butter(2, 0.2, output="sos")
    x = (noise(500, 2) * 1000).astype("int16")
    p = Pipeline(SosFilter(), dict(dtype="int16", shape=(-1, 2), sample_rate=FS,
                                   channel_info=[{"name": "a"}, {"name": "b"}]), sos=sos)
    assert p.node.output.params["dtype"] == "<f4"
    assert p.node.output.params["channel_info"] == [{"name": "a"}, {"name": "b"}]
    assert p.node.output.params["sample_rate"] == FS
    p.send_chunked(x, [100, 1, 250])
    p.sink.wait_index(500)
    np.testing.assert_allclose(p.sink.data(), signal.sosfilt(sos, x.astype(float), axis=0),
                               rtol=1e-6, atol=1e-3)
    p.close()


def test_parameter_change_while_running_has_no_glitch_beyond_the_new_filter():
    x = noise(8000, 3, offset=2.0)
    old = dict(btype="lowpass", freq=100.0, order=4)
    new = dict(btype="bandpass", freq=[20.0, 60.0], order=2)
    p = Pipeline(SosFilter(name="live"), dict(dtype="float32", shape=(-1, 3), sample_rate=FS),
                 warmup=2.0, **old)
    k = 4000
    p.send_chunked(x[:k], [300] * 20)
    p.sink.wait_index(k)
    p.node.set_params(**new)                    # while running
    np.testing.assert_allclose(p.node.sos, design_sos(FS, **new))
    p.send_chunked(x[k:], [300] * 20)
    p.sink.wait_index(len(x))
    out = p.sink.data()
    before = signal.sosfilt(design_sos(FS, **old), x[:k].astype(float), axis=0)
    np.testing.assert_allclose(out[:k], before, rtol=1e-6, atol=1e-6)
    # after the change: the new filter as if it had always been running (warmed up on
    # the last 2 s of input), i.e. no step and no transient left
    after = signal.sosfilt(design_sos(FS, **new), x.astype(float), axis=0)[k:]
    assert np.abs(out[k:] - after).max() < 1e-4 * np.abs(after).max()
    p.close()


def test_parameter_change_without_warmup_leaves_only_the_new_filter_transient():
    x = noise(4000, 1, offset=5.0)
    p = Pipeline(SosFilter(), dict(dtype="float32", shape=(-1, 1), sample_rate=FS),
                 btype="lowpass", freq=100.0, warmup=0.0, init="steady")
    p.send(x[:2000])
    p.sink.wait_index(2000)
    p.node.set_params(freq=50.0)
    p.send(x[2000:])
    p.sink.wait_index(4000)
    out = p.sink.data()[2000:, 0]
    new = signal.sosfilt(design_sos(FS, btype="lowpass", freq=50.0), x[:, 0].astype(float))[2000:]
    err = np.abs(out - new)
    assert err[:5].max() < 2.0             # no step (the DC level is 5): steady state of the last sample
    assert err[400:].max() < 1e-5          # and the transient of the new filter decays
    with pytest.raises(ValueError, match="within"):
        p.node.set_params(freq=600.0)      # refused, the running filter is unchanged
    np.testing.assert_allclose(p.node.sos, design_sos(FS, btype="lowpass", freq=50.0))
    p.close()


def test_gap_resets_the_state_and_stays_a_gap():
    x = noise(3000, 2, seed=3)
    design = dict(btype="highpass", freq=20.0)
    p = Pipeline(SosFilter(), dict(dtype="float32", shape=(-1, 2), sample_rate=FS), **design)
    p.send(x[:1000])
    p.send(x[1500:2200], index=2200)            # samples 1000..1499 lost at the source
    p.send(x[2200:])
    p.sink.wait_index(3000)
    assert [i for i, _ in p.sink.chunks] == [1000, 2200, 3000]
    assert p.sink.input.gaps == 1
    sos = design_sos(FS, **design)
    out = p.sink.data()
    np.testing.assert_allclose(out[:1000], signal.sosfilt(sos, x[:1000].astype(float), axis=0), atol=1e-5)
    np.testing.assert_allclose(out[1000:], signal.sosfilt(sos, x[1500:].astype(float), axis=0), atol=1e-5)
    p.close()


def test_steady_init_starts_without_a_step():
    x = np.full((500, 1), 10.0, "float32")
    p = Pipeline(SosFilter(), dict(dtype="float32", shape=(-1, 1), sample_rate=FS),
                 btype="lowpass", freq=30.0, init="steady")
    p.send(x)
    p.sink.wait_index(500)
    np.testing.assert_allclose(p.sink.data(), 10.0, rtol=1e-6)
    p.close()


def test_wrong_inputs_are_refused_at_connect_time_naming_node_input_and_value():
    node = SosFilter(name="bp")
    node.configure(btype="bandpass", freq=[10, 100])
    video = source(streamtype="video", shape=(-1, 4, 4), protocol="inproc")
    # the stream type is in the node's input spec (also checked in graph files)
    with pytest.raises(ValueError, match=r"input bp.input requires 'analogsignal', output src gives 'video'"):
        node.input.connect(video)
    assert not node.input.connected
    slow = source(dtype="float32", shape=(-1, 2), sample_rate=150.0)
    with pytest.raises(ValueError, match=r"node 'bp'.*freq must be .*75.*got \[10, 100\]"):
        node.input.connect(slow)                 # 100 Hz is above its Nyquist frequency
    assert not node.input.connected
    nodim = source(dtype="float32", sample_rate=FS)
    with pytest.raises(ValueError, match=r"node 'bp' input 'input': shape None"):
        node.input.connect(nodim)
    for out in (video, slow, nodim):
        out.close()
    node.close()


def test_bad_parameters_raise_at_configure():
    node = SosFilter()
    with pytest.raises(ValueError, match="btype='band' is not one of"):
        node.configure(btype="band", freq=3)
    with pytest.raises(ValueError, match="needs freq"):
        node.configure(btype="lowpass")
    with pytest.raises(ValueError, match=r"sos must have shape \(n_sections, 6\)"):
        node.configure(sos=[[1, 2, 3]])
    with pytest.raises(TypeError, match="unexpected keyword|takes no parameter"):
        node.configure(btype="lowpass", freq=3, wrong=1)
    node.close()
