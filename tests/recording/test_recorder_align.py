"""A Recorder with ``align`` fits its streams to one common clock through their shared sync
line when it closes, as ``acqflow rec align`` does; a failing alignment leaves the recording."""
from __future__ import annotations

import numpy as np
import pytest

from acqflow import OutputStream
from acqflow.nodes import Recorder
from acqflow.testing import wait_for
from acqflow.storage import open_recording
from acqflow.storage.align import align_recording
from tests.storage.sync_sim import EPOCH, Device, line_values, pulse_train

WIDTH = 0.06
EEG = Device("eeg", 1000, 30, 0.5, 0.010, 0.001, 50, "analog")
CAM = Device("cam", 60, 80, 1.2, 0.030, 0.003, 1, "video")


def record(path, align, duration=60.0):
    rng = np.random.default_rng(2)
    pulses = pulse_train(duration, rng)
    outs = {}
    for dev in (EEG, CAM):
        out = OutputStream(name=dev.name)
        shape = (-1, 2) if dev.kind == "analog" else (-1, 1)
        out.configure(protocol="inproc", dtype="float32", shape=shape, sample_rate=dev.rate,
                      streamtype="analogsignal",
                      channel_info=[{"name": "eeg"}, {"name": "sync"}] if dev.kind == "analog" else None)
        outs[dev.name] = out
    rec = Recorder()
    rec.configure(streams=outs, dirname=str(path), align=align)
    rec.initialize()
    rec.start()
    try:
        for dev in (EEG, CAM):
            n = int((duration - dev.t0) * dev.rate)
            values = line_values(dev, n, pulses, WIDTH, rng)
            for stop in range(dev.chunk, n + 1, dev.chunk):
                t = EPOCH + float(dev.true_time(stop - 1)) + dev.latency + rng.normal(0, dev.jitter)
                outs[dev.name].send(values[stop - dev.chunk:stop], index=stop, time=t)
        total = {d.name: int((duration - d.t0) * d.rate) // d.chunk * d.chunk for d in (EEG, CAM)}
        rec.flush(timeout=30)
        wait_for(lambda: all(rec.stats()["inputs"][k]["index"] >= v for k, v in total.items()),
                 30, message="every chunk recorded")
        rec.stop()
    finally:
        rec.close()
        for out in outs.values():
            out.close()
    return rec


def test_a_recorder_aligns_its_streams_when_it_closes(tmp_path):
    rec = record(tmp_path / "rec", {"lines": ["eeg:sync", "cam:0"], "reference": "eeg"})
    assert isinstance(rec.alignment, dict), rec.alignment
    stored = open_recording(tmp_path / "rec")
    al = stored["cam"].entry["alignment"]
    assert al["reference"] == "eeg" and al["matched"] >= 30
    assert al["residual_p99"] < 1 / 60                       # within a frame of the camera
    # the same fit as aligning the recording offline
    again = align_recording(stored, ["eeg:sync", "cam:0"], "eeg")
    for name in ("eeg", "cam"):
        assert again[name]["a"] == pytest.approx(rec.alignment[name]["a"], abs=1e-9)
        assert again[name]["b"] == pytest.approx(rec.alignment[name]["b"], rel=1e-12)


def test_an_alignment_that_fails_leaves_the_recording_and_says_why(tmp_path, caplog):
    rec = record(tmp_path / "rec", {"lines": ["eeg:eeg", "cam:0"]}, duration=20.0)  # noise, no pulses
    assert isinstance(rec.alignment, str) and rec.alignment
    assert "rec align" in caplog.text
    stored = open_recording(tmp_path / "rec")
    assert stored.committed and "alignment" not in stored["cam"].entry
    assert len(stored["eeg"]) > 0


@pytest.mark.parametrize("align, message", [
    ({"lines": ["eeg:sync"]}, "two or more"),
    ({"lines": ["eeg:sync", "nope:0"]}, "'nope:0' names no recorded stream"),
    ({"lines": ["eeg:sync", "cam:0"], "reference": "x"}, "reference 'x' has no sync line"),
    ({"lines": ["eeg:sync", "cam:0"], "colour": 1}, "align must be a dict with keys"),
    ({"lines": ["eeg", "cam:0"]}, "'eeg' is not STREAM:CHANNEL"),
])
def test_bad_align_parameters_name_the_bad_value(tmp_path, align, message):
    out = OutputStream(name="x")
    out.configure(protocol="inproc", dtype="float32", shape=(-1, 2), sample_rate=1000.0)
    rec = Recorder()
    try:
        with pytest.raises(ValueError, match=message):
            rec.configure(streams={"eeg": out, "cam": out}, dirname=str(tmp_path / "r"), align=align)
    finally:
        rec.close()
        out.close()
