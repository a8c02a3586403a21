"""Device clocks aligned by a shared sync line: `acqflow rec align`, readers and exports.

Three simulated devices (tests/storage/sync_sim.py) at 30 kHz (a bit of a digital
channel), 1 kHz (an analog channel) and 60 Hz (frame brightness), clocks -50, +30 and
+80 ppm off, host stamps with 1-3 ms jitter, share a pulse train at random 0.5-1.5 s
intervals for 10 minutes.  The common clock is the 30 kHz stream's fitted stamps; a
sample's common-clock error is its aligned time minus the common-clock time of the
moment it was really taken.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acqflow.storage import RecordingWriter, open_recording
from acqflow.storage.align import SyncError, align_recording, common_index
from acqflow.storage.align_edges import EdgeScanner, analog_edges, barcode_signal, \
    decode_barcodes, digital_edges, levels
from acqflow.storage.backends import lock_writer
from acqflow.storage.cli import main
from acqflow.testing import examples
from tests.storage.sync_sim import EPOCH, Device, pulse_train, write_devices

DURATION = 600.0
WIDTH = 0.06        # s: pulses the 60 Hz stream sees (3.6 frames)
DEVICES = [Device("ephys", 30000, -50, 0.13, 0.002, 0.001, 3000, "digital"),
           Device("eeg", 1000, 30, 0.5, 0.010, 0.001, 50, "analog"),
           Device("cam", 60, 80, 1.2, 0.030, 0.003, 1, "video")]
BY_NAME = {d.name: d for d in DEVICES}


def common_clock_error(rec, dev: Device, step: int = 1) -> np.ndarray:
    """|aligned time - common-clock time of the true moment| of every ``step``-th sample."""
    ref, al = BY_NAME["ephys"], rec[dev.name].entry["alignment"]
    ra = rec["ephys"].entry["alignment"]
    i = np.arange(0, len(rec[dev.name]), step)
    want = ra["a"] + ra["b"] * ref.index_of(dev.true_time(i))
    return np.abs(al["a"] + al["b"] * i - want)


@pytest.fixture(scope="module")
def aligned(tmp_path_factory):
    path = tmp_path_factory.mktemp("sync") / "rec"
    write_devices(path, DEVICES, DURATION, pulse_train(DURATION, np.random.default_rng(0)),
                  WIDTH)
    assert main(["align", str(path)] + sum((["--line", d.line] for d in DEVICES), [])) == 0
    return open_recording(path)


def test_three_devices_on_one_clock(aligned, capsys):
    out = {}
    for dev in DEVICES:
        al = aligned[dev.name].entry["alignment"]
        assert al["reference"] == "ephys" and al["matched"] == al["pulses"] > 500
        p99 = float(np.percentile(common_clock_error(aligned, dev, 7), 99))
        assert p99 <= 1 / 60                         # the slowest stream's period
        assert p99 < 1 / dev.rate or dev.name == "ephys"   # and each one's own
        # the relative drift of the device clocks, as simulated
        want = ((1 + dev.ppm * 1e-6) / (1 - 50e-6) - 1) * 1e6
        assert al["drift_ppm"] == pytest.approx(want, abs=3)
        out[dev.name] = p99
    # the common clock itself: the reference's stamps fitted, its latency aside
    ref = BY_NAME["ephys"]
    al = aligned["ephys"].entry["alignment"]
    i = np.arange(0, len(aligned["ephys"]), 7)
    host = np.abs(al["a"] + al["b"] * i - (EPOCH + ref.true_time(i) + ref.latency))
    assert np.percentile(host, 99) < 1 / ref.rate
    with capsys.disabled():
        print("\ncommon-clock error p99 per stream (s):",
              {k: f"{v:.3g}" for k, v in out.items()},
              f"reference vs host clock p99 {np.percentile(host, 99):.3g} s")


def test_readers_and_merge_in_common_time(aligned):
    eeg = aligned["eeg"]
    al = eeg.entry["alignment"]
    t = eeg.common_times(100, 200)
    np.testing.assert_allclose(t, al["a"] + al["b"] * np.arange(100, 200), rtol=0, atol=1e-9)
    assert common_index(eeg, float(t[50])) == 150
    # merged in common time: every piece's time is its last sample's aligned time, in order
    t0, t1 = float(t[0]), float(t[0]) + 2.0
    pieces = list(aligned.merge(["eeg", "cam"], t0, t1))
    times = [p[1][2] for p in pieces]
    assert times == sorted(times) and {p[0] for p in pieces} == {"eeg", "cam"}
    for name, (stop, _data, tt) in pieces:
        assert tt == pytest.approx(float(aligned[name].common_times(stop - 1, stop)[0]), abs=1e-9)


def test_exports_write_the_common_clock(aligned, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    pyxdf = pytest.importorskip("pyxdf")
    from acqflow.storage.export_nwb import to_nwb
    from acqflow.storage.export_xdf import to_xdf
    from acqflow.storage.timebase import timebase
    streams = [aligned["eeg"], aligned["cam"]]
    want = {s.name: s.common_times() for s in streams}
    tb = timebase(aligned["cam"])
    assert not tb.regular and len(tb.segments) == 1 and "aligned" in tb.summary()
    to_nwb(streams, tmp_path / "a.nwb", progress=False)
    with pynwb.NWBHDF5IO(str(tmp_path / "a.nwb"), "r") as io:
        f = io.read()
        t0 = f.session_start_time.timestamp()
        for s in streams:
            np.testing.assert_allclose(f.acquisition[s.name].timestamps[()] + t0, want[s.name],
                                       rtol=0, atol=2e-6)
    h5py = pytest.importorskip("h5py")
    from acqflow.storage.export_hdf5 import to_hdf5
    to_hdf5(aligned["eeg"], tmp_path / "a.h5", start=1000, stop=61000, progress=False)
    with h5py.File(tmp_path / "a.h5", "r") as f:   # (h5py writes a chunk at a time: slow)
        np.testing.assert_allclose(f["eeg"]["times"][()], want["eeg"][1000:61000], rtol=0,
                                   atol=1e-9)
    to_xdf(streams, tmp_path / "a.xdf", progress=False)
    got, _ = pyxdf.load_xdf(str(tmp_path / "a.xdf"), synchronize_clocks=True,
                            dejitter_timestamps=False)
    for x in got:
        np.testing.assert_allclose(x["time_stamps"], want[x["info"]["name"][0]], rtol=0,
                                   atol=1e-6)


def test_missing_and_extra_pulses(tmp_path, capsys):
    """10 % of the pulses unseen by the camera, spurious pulses on the EEG line."""
    rng = np.random.default_rng(5)
    dur = 120.0
    pulses = pulse_train(dur, rng)
    drop = {"cam": rng.choice(pulses, len(pulses) // 10, replace=False)}
    extra = {"eeg": np.sort(rng.uniform(2, dur - 2, 12))}
    extra["eeg"] = extra["eeg"][np.min(np.abs(extra["eeg"][:, None] - pulses), axis=1) > 0.2]
    write_devices(tmp_path / "rec", DEVICES, dur, pulses, WIDTH, seed=3, drop=drop, extra=extra)
    rec = open_recording(tmp_path / "rec")
    result = align_recording(rec, [d.line for d in DEVICES])
    assert result["cam"]["pulses"] == len(pulses) - len(drop["cam"])
    assert result["eeg"]["pulses"] == len(pulses) + len(extra["eeg"])
    assert result["eeg"]["matched"] == len(pulses)
    for dev in DEVICES:
        assert np.percentile(common_clock_error(rec, dev, 5), 99) < 1 / 60
    # the CLI recomputes it on another reference, printing one line per stream
    assert main(["align", rec.url, "--line", "eeg:1", "--line", "cam:0",
                 "--reference", "eeg"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "common clock = stream 'eeg'" in lines[0]
    assert lines[2].startswith("  cam (cam:0): ") and "matched" in lines[2] and "ppm" in lines[2]
    rec.refresh()
    assert "alignment" not in rec["ephys"].entry       # one common clock per recording
    assert rec["cam"].entry["alignment"]["drift_ppm"] == pytest.approx(50, abs=3)


def test_a_pause_gives_a_piece_per_run(tmp_path):
    """The EEG and the camera stop for 3 s and 2 s (their indexes continue): one linear
    piece per run, each on the common clock; exports step with them."""
    from dataclasses import replace

    from acqflow.storage.timebase import timebase
    dur = 120.0
    devs = [DEVICES[0], replace(DEVICES[1], pause=(50_000, 3.0)),
            replace(DEVICES[2], pause=(4000, 2.0))]
    write_devices(tmp_path / "rec", devs, dur, pulse_train(dur, np.random.default_rng(4)),
                  WIDTH)
    rec = open_recording(tmp_path / "rec")
    result = align_recording(rec, [d.line for d in devs])
    assert len(result["ephys"]["pieces"]) == 1
    for dev in devs[1:]:
        pieces = result[dev.name]["pieces"]
        assert [p[0] for p in pieces] == [0, dev.pause[0]]
        i = np.arange(0, len(rec[dev.name]), 3)
        ref, ra = devs[0], result["ephys"]
        err = np.abs(rec[dev.name].common_times()[i]
                     - (ra["a"] + ra["b"] * ref.index_of(dev.true_time(i))))
        assert np.percentile(err, 99) < 1 / 60
        tb = timebase(rec[dev.name])
        assert len(tb.segments) == 2 and tb.segments[1].start == dev.pause[0]
        jump = tb.segments[1].t0 - tb.segments[0].time(dev.pause[0])
        assert jump == pytest.approx(dev.pause[1], abs=0.02)
        t = float(rec[dev.name].common_times(dev.pause[0], dev.pause[0] + 1)[0])
        assert common_index(rec[dev.name], t) == dev.pause[0]
        assert common_index(rec[dev.name], t - 1.0) == dev.pause[0]   # inside the pause


def test_video_frames_brightness_line(tmp_path):
    """A video stream's line is its frames' mean brightness (``STREAM:mean``)."""
    dur = 90.0
    devs = [DEVICES[1], Device("cam", 30, -40, 0.7, 0.03, 0.003, 1, "frames")]
    write_devices(tmp_path / "rec", devs, dur, pulse_train(dur, np.random.default_rng(6)), 0.1)
    rec = open_recording(tmp_path / "rec")
    result = align_recording(rec, ["eeg:sync", "cam:mean"])
    assert result["cam"]["matched"] == result["cam"]["pulses"] > 50
    ra, cam = result["eeg"], devs[1]
    i = np.arange(len(rec["cam"]))
    err = np.abs(rec["cam"].common_times() - (ra["a"] + ra["b"] * devs[0].index_of(
        cam.true_time(i))))
    assert np.percentile(err, 99) < 1 / 30
    with pytest.raises(SyncError, match=r"stream 'cam' has frames of shape \(8, 8\): its "
                                        r"sync line is its frame brightness, channel 'mean'"):
        align_recording(rec, ["eeg:sync", "cam:0"])


def test_a_regular_pulse_train_is_matched_through_the_stamps(tmp_path, capsys):
    """Pulses every 1.000 s: the intervals alone fit any shift by whole seconds; the
    stamps (30 ms apart here) pick the right one, or the error says they cannot (0.5 s)."""
    from dataclasses import replace
    dur = 120.0
    pulses = np.arange(2.0, dur - 2, 1.0)
    write_devices(tmp_path / "rec", DEVICES[1:], dur, pulses, WIDTH)
    rec = open_recording(tmp_path / "rec")
    result = align_recording(rec, ["eeg:sync", "cam:0"])
    assert result["cam"]["matched"] == len(pulses)
    ra, eeg, cam = result["eeg"], DEVICES[1], DEVICES[2]
    i = np.arange(len(rec["cam"]))
    err = np.abs(rec["cam"].common_times() - (ra["a"] + ra["b"] * eeg.index_of(cam.true_time(i))))
    assert np.percentile(err, 99) < 1 / 60
    late = replace(cam, latency=0.5)
    write_devices(tmp_path / "late", [eeg, late], dur, pulses, WIDTH)
    assert main(["align", str(tmp_path / "late"), "--line", "eeg:sync", "--line", "cam:0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stream 'cam' line 'cam:0' does not match reference 'eeg'" \
        " line 'eeg:sync': the pulses come at regular intervals (1 s) and the stamps do not " \
        "tell which one is which" in err


def test_a_stream_on_the_same_sample_clock(tmp_path, capsys):
    """An amplifier's signals beside its sync input: --same-clock gives them its fit."""
    from dataclasses import replace
    dur = 60.0
    amp = replace(DEVICES[1], name="amp")
    write_devices(tmp_path / "rec", DEVICES[1:] + [amp], dur,
                  pulse_train(dur, np.random.default_rng(8)), WIDTH)
    url = str(tmp_path / "rec")
    assert main(["align", url, "--line", "eeg:sync", "--line", "cam:0",
                 "--same-clock", "amp=eeg"]) == 0
    assert "  amp: on the sample clock of 'eeg'" in capsys.readouterr().out.splitlines()
    rec = open_recording(url)
    np.testing.assert_array_equal(rec["amp"].common_times(), rec["eeg"].common_times())
    assert rec["amp"].entry["alignment"]["same_clock_as"] == "eeg"
    assert main(["align", url, "--line", "eeg:sync", "--line", "cam:0",
                 "--same-clock", "amp=cam"]) == 1
    assert "same clock 'amp=cam': 'amp' runs at 1000 Hz, 'cam' at 60 Hz" in \
        capsys.readouterr().err


def test_barcodes(tmp_path):
    """Open Ephys-style barcodes (start pulse, 32 bits of 30 ms) every 4-6 s."""
    rng = np.random.default_rng(2)
    devs = [Device("a", 2000, -20, 0.3, 0.001, 0.001, 100, "digital"),
            Device("b", 500, 40, 0.9, 0.004, 0.002, 25, "digital")]
    starts = 1.5 + np.cumsum(rng.uniform(4, 6, 20))
    values = rng.integers(0, 2 ** 32, len(starts))
    with RecordingWriter(tmp_path / "rec") as w:
        for d in devs:
            n = int((starts[-1] + 3 - d.t0) * d.rate)
            line = barcode_signal(n, d.rate, d.true_time, starts, values)
            w.add_stream(d.name, streamtype="digitalsignal", dtype="uint8", shape=(-1, 1),
                         sample_rate=d.rate)
            stops = np.arange(d.chunk, n + 1, d.chunk)
            for stop in stops:
                w.write(d.name, (line[stop - d.chunk:stop, None].astype(np.uint8) << 3),
                        timestamp=EPOCH + d.true_time(stop - 1) + rng.normal(0, d.jitter))
    rec = open_recording(tmp_path / "rec")
    result = align_recording(rec, ["a:0:3", "b:0:3"], barcodes=True)
    assert result["b"]["matched"] == len(starts)
    err = np.abs(result["b"]["a"] + result["b"]["b"] * np.arange(0, 10000, 7)
                 - (result["a"]["a"] + result["a"]["b"]
                    * devs[0].index_of(devs[1].true_time(np.arange(0, 10000, 7)))))
    assert np.percentile(err, 99) < 1 / 500
    assert result["b"]["drift_ppm"] == pytest.approx(60, abs=5)


def test_no_sync_line_and_lines_that_do_not_match(tmp_path, capsys):
    rng = np.random.default_rng(9)
    dur = 60.0
    write_devices(tmp_path / "rec", DEVICES[1:], dur, pulse_train(dur, rng), WIDTH)
    rec = open_recording(tmp_path / "rec")
    with pytest.raises(SyncError, match=r"stream 'eeg' channel 'eeg': no sync pulses|"
                                        r"stream 'eeg' line 'eeg:eeg' does not match"):
        align_recording(rec, ["cam:0", "eeg:eeg"])
    flat = tmp_path / "flat"
    with RecordingWriter(flat) as w:
        w.add_stream("x", streamtype="analogsignal", dtype="float32", shape=(-1, 1),
                     sample_rate=100.0)
        w.add_stream("y", streamtype="analogsignal", dtype="float32", shape=(-1, 1),
                     sample_rate=100.0)
        for k in range(1, 11):
            w.write("x", np.zeros((100, 1), np.float32), timestamp=EPOCH + k)
            w.write("y", np.ones((100, 1), np.float32), timestamp=EPOCH + k)
    assert main(["align", str(flat), "--line", "x:0", "--line", "y:0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stream 'x' channel '0': no sync pulses found" in err
    assert main(["align", str(flat), "--line", "x:3", "--line", "y:0"]) == 1
    assert "stream 'x' has no channel '3'" in capsys.readouterr().err
    # a recording that a writer holds is not changed
    fd = lock_writer(tmp_path / "rec")
    try:
        before = (tmp_path / "rec" / "manifest.json").read_bytes()
        assert main(["align", str(tmp_path / "rec"), "--line", "eeg:sync", "--line",
                     "cam:0"]) == 1
        assert "the recording is still being written" in capsys.readouterr().err
        assert (tmp_path / "rec" / "manifest.json").read_bytes() == before
    finally:
        os.close(fd)
    assert main(["align", str(tmp_path / "rec"), "--line", "eeg:sync", "--line", "cam:0"]) == 0
    # two lines with different pulse trains: the error names both lines
    a, b = pulse_train(dur, rng), pulse_train(dur, rng)
    write_devices(tmp_path / "both", DEVICES[1:], dur, a, WIDTH, drop={"cam": a},
                  extra={"cam": b})
    assert main(["align", str(tmp_path / "both"), "--line", "eeg:sync", "--line", "cam:0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "stream 'cam' line 'cam:0' does not match reference 'eeg' line 'eeg:sync'" in err


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.booleans(), min_size=0, max_size=400),
       st.lists(st.floats(-1e6, 1e6) | st.just(float("nan")), min_size=0, max_size=400),
       st.lists(st.integers(0, 2 ** 32 - 1), min_size=1, max_size=4))
def test_edge_and_barcode_decoders_take_any_line(bits, floats, values):
    """Any line decodes without crashing; barcodes round-trip their values."""
    state = np.array(bits, np.int8)
    state[::7] = -1                                    # gaps
    e = digital_edges(state)
    decode_barcodes(e, 1000.0)
    analog_edges(np.array(floats, np.float32))
    starts = 0.5 + 2.5 * np.arange(len(values))     # > 35 bits of low between barcodes
    line = barcode_signal(int((starts[-1] + 1.5) * 1000), 1000.0, lambda i: i / 1000.0,
                          starts, np.array(values))
    pos, got = decode_barcodes(digital_edges(line.astype(np.int8)), 1000.0)
    assert got.tolist() == list(values)
    np.testing.assert_allclose(pos / 1000.0, starts, atol=1e-3)


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=2, max_size=300),
       st.lists(st.integers(1, 40), min_size=1, max_size=20))
def test_edges_do_not_depend_on_the_blocks(values, cuts):
    """Fed in any blocks, a line has the edges it has fed whole (digital and analog)."""
    x = np.array(values, np.float32)
    bounds = np.unique(np.r_[0, np.cumsum(cuts), len(x)].clip(0, len(x)))
    level = levels(x)
    for lv, data in ((None, (x > 0).astype(np.int8)), (level, x)):
        if data is x and level is None:
            continue
        whole, parts = EdgeScanner(lv), EdgeScanner(lv)
        whole.push(0, data)
        for a, b in zip(bounds[:-1], bounds[1:]):
            parts.push(int(a), data[a:b])
        np.testing.assert_allclose(parts.edges().rising, whole.edges().rising)
        np.testing.assert_allclose(parts.edges().falling, whole.edges().falling)
