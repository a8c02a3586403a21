"""A live source paused (node.stop(), then start()) while a Recorder records it: the
recording keeps the true chunk times, and every export places the samples after the pause
where the recording has them (NWB timestamps, HDF5 times, WAV split), not a pause early."""
import numpy as np
import pytest

from acqflow.dataflow import clock
from acqflow.devices.synthetic import SyntheticSignal
from acqflow.nodes.recorder import Recorder
from acqflow.storage import open_recording
from acqflow.storage.timebase import timebase
from acqflow.testing import wait_for

h5py = pytest.importorskip("h5py")
PAUSE = 1.0


@pytest.fixture(scope="module")
def paused_recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("live") / "rec"
    src = SyntheticSignal(name="src")
    src.configure(channels=2, sample_rate=1000.0, chunksize=50)
    src.outputs["signals"].configure(protocol="tcp")
    src.initialize()
    rec = Recorder(name="rec")
    rec.configure(dirname=path, streams=["sig"])
    rec.inputs["sig"].connect(src.outputs["signals"])
    rec.initialize()
    rec.start()
    src.start()
    try:
        wait_for(lambda: rec.writer.stream_stop("sig") >= 500, message="500 samples recorded")
        src.stop()
        resumed_at = src.outputs["signals"].index
        stopped = clock.now()
        wait_for(lambda: clock.now() - stopped >= PAUSE, message="the pause")
        src.start()
        wait_for(lambda: rec.writer.stream_stop("sig") >= resumed_at + 500,
                 message="500 samples recorded after the pause")
        src.stop()
        wait_for(lambda: rec.writer.stream_stop("sig") == src.outputs["signals"].index,
                 message="every sent sample recorded")
    finally:
        rec.stop()
        rec.close()
        src.close()
    return open_recording(path), resumed_at


def test_the_recording_keeps_the_pause(paused_recording):
    rec, resumed_at = paused_recording
    sig = rec["sig"]
    assert not sig.gaps                               # the index went on through the pause
    tb = timebase(sig)
    assert not tb.regular
    jumps = {b.start: b.t0 - a.time(b.start) for a, b in zip(tb.segments, tb.segments[1:])}
    assert jumps[resumed_at] >= PAUSE * 0.9


def test_nwb_hdf5_wav_place_samples_after_the_pause(paused_recording, tmp_path):
    pytest.importorskip("pynwb")
    from pynwb import NWBHDF5IO
    from scipy.io import wavfile
    from acqflow.storage.export import to_wav_parts
    from acqflow.storage.export_hdf5 import to_hdf5
    from acqflow.storage.export_nwb import to_nwb
    rec, resumed_at = paused_recording
    sig = rec["sig"]
    times = sig.times(model=True)     # the Recorder stored a time model: exports use it
    to_nwb(sig, tmp_path / "s.nwb", progress=False)
    with NWBHDF5IO(str(tmp_path / "s.nwb"), "r") as io:
        f = io.read()
        series = f.acquisition["sig"]
        assert series.rate is None
        got = series.timestamps[()] + f.session_start_time.timestamp()
    np.testing.assert_allclose(got, times, rtol=0, atol=1e-6)
    # a fixed rate would have put the first sample after the pause a pause early
    assert times[resumed_at] - (times[0] + resumed_at / sig.sample_rate) >= PAUSE * 0.9
    to_hdf5(sig, tmp_path / "s.h5", progress=False)
    with h5py.File(tmp_path / "s.h5") as f:
        np.testing.assert_array_equal(f["sig"]["times"][()], times)
    parts = to_wav_parts(sig, tmp_path / "s.wav", progress=False)
    assert len(parts) >= 2 and any(seg.start == resumed_at for _, seg in parts)
    for path, seg in parts:
        rate, data = wavfile.read(path)
        assert len(data) == seg.stop - seg.start
        k = np.arange(seg.start, seg.stop)
        # within a WAV segment the stamps' jitter stays under the tolerance
        assert np.abs(seg.t0 + (k - seg.start) / rate - times[k]).max() <= timebase(sig).tolerance
