"""SyntheticSignal: waveforms, params, absolute indexes across restarts, drift-free pacing."""
import numpy as np
import pytest

import acqflow
from acqflow import InputStream
from acqflow.dataflow import clock
from acqflow.devices import SyntheticSignal


def make(**kw):
    node = SyntheticSignal(name="synth")
    node.configure(**kw)
    node.output.configure(protocol="inproc")
    node.initialize()
    inp = InputStream()
    inp.connect(node.output)
    return node, inp


def collect(inp, n):
    chunks = []
    while sum(len(d) for _, d in chunks) < n:
        chunks.append(inp.recv(timeout=10000))
    return chunks


def test_sine_per_channel_and_channel_info():
    node, inp = make(channels=3, sample_rate=1000.0, chunksize=50, frequencies=[5, 10, 20],
                     amplitude=2.0, channel_names=["a", "b", "c"], units="mV")
    p = node.output.params
    assert (p["shape"], p["sample_rate"], p["dtype"]) == ((-1, 3), 1000.0, "<f4")
    assert p["channel_info"] == [{"name": "a", "units": "mV", "frequency": 5.0},
                                 {"name": "b", "units": "mV", "frequency": 10.0},
                                 {"name": "c", "units": "mV", "frequency": 20.0}]
    node.start()
    chunks = collect(inp, 200)
    node.close()
    assert [i for i, _ in chunks[:4]] == [50, 100, 150, 200]
    data = np.concatenate([d for _, d in chunks])[:200]
    t = np.arange(200)[:, None] / 1000.0
    np.testing.assert_allclose(data, 2.0 * np.sin(2 * np.pi * t * [5, 10, 20]), atol=1e-6)


def test_square_noise_and_int_dtype():
    node, inp = make(channels=2, sample_rate=1000.0, chunksize=100, waveform="square",
                     frequencies=10.0, amplitude=1000, dtype="int16")
    node.start()
    data = collect(inp, 100)[0][1]
    node.close()
    assert data.dtype == np.int16
    assert (data[:50] == 1000).all() and (data[50:100] == -1000).all()

    node, inp = make(channels=4, sample_rate=5000.0, chunksize=1000, waveform="noise", seed=1)
    node.start()
    data = collect(inp, 1000)[0][1]
    node.close()
    assert abs(float(data.std()) - 1.0) < 0.1 and data.shape == (1000, 4)


@pytest.mark.parametrize("transfermode", ["plaindata", "sharedmem"])
def test_user_buffer_is_looped_exactly(transfermode):
    buf = np.arange(70, dtype="int32").reshape(35, 2)
    node = SyntheticSignal(name="synth")
    node.configure(buffer=buf, sample_rate=2000.0, chunksize=20, dtype="int32")
    node.output.configure(transfermode=transfermode, buffer_size=1000)
    node.initialize()
    inp = InputStream()
    inp.connect(node.output)
    assert node.output.params["shape"] == (-1, 2)
    node.start()
    chunks = []
    while sum(len(d) for d in chunks) < 100:
        chunks.append(inp.recv(timeout=10000, return_data=True)[1])
    data = np.concatenate(chunks)[:100]
    inp.close()
    node.close()
    np.testing.assert_array_equal(data, buf[np.arange(100) % 35])


def test_restart_keeps_absolute_indexes_and_continuity():
    node, inp = make(channels=1, sample_rate=2000.0, chunksize=40, frequencies=3.0)
    node.start()
    first = collect(inp, 120)
    node.stop()
    while inp.poll(200):                       # drain what was sent before stop()
        first.append(inp.recv())
    end = first[-1][0]
    node.start()
    index, data = inp.recv(timeout=10000)
    node.close()
    assert index == end + 40 and inp.gaps == 0
    np.testing.assert_allclose(data, node.generate(end, 40), atol=0)
    expected = np.sin(2 * np.pi * 3.0 * (np.arange(end, end + 40) / 2000.0))
    np.testing.assert_allclose(data[:, 0], expected, atol=1e-6)


@pytest.mark.parametrize("kw, message", [
    ({"waveform": "triangle"}, "unknown waveform 'triangle'; available: sine, square, noise, buffer"),
    ({"channels": 0}, "channels must be an int >= 1"),
    ({"sample_rate": -5}, "sample_rate must be > 0 and finite, got -5"),
    ({"chunksize": 0}, "chunksize must be an int >= 1"),
    ({"dtype": "U4"}, "dtype 'U4' is not numeric"),
    ({"channels": 2, "frequencies": [1, 2, 3]}, "3 frequencies for 2 channels"),
    ({"buffer": np.zeros((0, 2))}, r"buffer must be \(n,\) or \(n, channels\) with n > 0"),
    ({"buffer": np.zeros((2, 2, 2))}, "buffer must be .*, got array\\(\\[\\[\\[0"),
    ({"buffer": np.zeros(4), "dtype": "int16"}, "buffer dtype float64 cannot become dtype int16"),
])
def test_bad_parameters_are_refused_at_configure(kw, message):
    node = SyntheticSignal()
    with pytest.raises(ValueError, match=message):
        node.configure(**kw)
    assert node.state == "new"
    node.close()


def test_hand_configured_output_must_match_the_device():
    node = SyntheticSignal(name="s")
    node.configure(channels=2)
    node.output.configure(protocol="inproc", shape=(-1, 3))
    with pytest.raises(ValueError, match=r"configured with shape=\(-1, 3\) but the device produces"):
        node.initialize()
    node.close()


def test_registered_node_type():
    assert acqflow.get_node_type("SyntheticSignal") is SyntheticSignal


def test_pacing_over_10_s_has_no_drift():
    """Delivered count matches sample_rate * elapsed within 0.1 %, measured by the receiver.

    Each chunk is due when its last sample is: chunk ending at index i is due at
    t0 + i / rate.  A loaded machine can only make a chunk late, never early, so
    the smallest (receipt time - i / rate) seen in the first and last second of the
    run estimate t0 at both ends; their difference is the drift over the run.
    """
    rate, chunk = 10000.0, 100
    node, inp = make(channels=2, sample_rate=rate, chunksize=chunk)
    node.start()
    offsets = []
    start = clock.now()
    while True:
        index, _ = inp.recv(timeout=10000)
        now = clock.now()
        offsets.append((now, index, now - index / rate))
        if now - start >= 10.0:
            break
    node.close()
    assert inp.gaps == 0
    t_first, t_last = offsets[0][0], offsets[-1][0]
    head = min(o for t, _, o in offsets if t - t_first <= 1.0)
    tail = min(o for t, _, o in offsets if t_last - t <= 1.0)
    elapsed = t_last - t_first
    drift = tail - head                                  # seconds gained or lost over the run
    error = abs(drift) / elapsed
    print(f"pacing: {offsets[-1][1]} samples received over {elapsed:.3f} s, "
          f"drift {drift * 1e3:.3f} ms ({error * 100:.4f} %)")
    assert error < 0.001
