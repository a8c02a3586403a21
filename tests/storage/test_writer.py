"""RecordingWriter API: modes, validation, gaps, overflow accounting, manifest, fsync."""
import json
import threading

import numpy as np
import pytest

from acqflow.storage import (NotARecordingError, RecordingExistsError, RecordingWriter,
                             StorageError, WriterError, open_recording)
from acqflow.storage.manifest import MANIFEST
from tests.storage.source import (EV_PARAMS, SIG_PARAMS, analog, check_stream_data,
                                  chunk_range, first_chunk_at, make_recording, write_chunks)


def test_manifest_describes_streams(tmp_path):
    path = tmp_path / "rec"
    make_recording(path, 20, metadata={"subject": "s01"})
    m = json.loads((path / MANIFEST).read_text())
    assert m["state"] == "closed" and m["metadata"] == {"subject": "s01"}
    sig, ev = m["streams"]
    assert sig["name"] == "sig" and sig["streamtype"] == "analogsignal"
    assert sig["dtype"] == "<f4" and sig["shape"] == [-1, 16] and sig["sample_rate"] == 1000.0
    assert sig["units"] == "uV" and sig["channel_info"][3] == {"name": "ch3"}
    assert sig["clock"]["kind"] == "wallclock"
    assert "protocol" not in sig and "port" not in sig["metadata"]
    assert ev["dtype"] == [["index", "<i8"], ["label", "|S16"]]
    rec = open_recording(path)
    assert rec.committed and rec["sig"].params["channel_info"][0] == {"name": "ch0"}


def test_modes(tmp_path):
    path = tmp_path / "rec"
    make_recording(path, 10)
    with pytest.raises(RecordingExistsError):
        RecordingWriter(path)
    make_recording(path, 5, mode="overwrite")
    assert open_recording(path)["sig"].n_records < 10
    other = tmp_path / "not_a_recording"
    other.mkdir()
    (other / "precious.txt").write_text("keep me")
    with pytest.raises(RecordingExistsError):
        RecordingWriter(other, "overwrite")
    assert (other / "precious.txt").exists()
    with pytest.raises(NotARecordingError):
        RecordingWriter(other, "append")
    with pytest.raises(ValueError):
        RecordingWriter(tmp_path / "x", "truncate")
    with pytest.raises(ValueError):
        RecordingWriter("s3://bucket/rec")


def test_append_continues_and_checks_streams(tmp_path):
    path = tmp_path / "rec"
    make_recording(path, 20)
    before = open_recording(path)
    uuid = before.uuid
    with RecordingWriter(path, "append") as w:
        assert w.add_stream("sig", SIG_PARAMS) == 0
        with pytest.raises(ValueError):
            w.add_stream("ev", dict(EV_PARAMS, streamtype="analogsignal", dtype="float32",
                                    shape=(-1, 2)))
        w.add_stream("ev", EV_PARAMS)
        stop = w.stream_stop("sig")
        assert stop == before["sig"].stop_index
        write_chunks(w, first_chunk_at(stop), 40)
    rec = open_recording(path)
    assert rec.uuid == uuid and rec["sig"].stop_index == chunk_range(39)[1]
    check_stream_data(rec)


def test_validation(tmp_path):
    with RecordingWriter(tmp_path / "rec") as w:
        w.add_stream("sig", SIG_PARAMS)
        with pytest.raises(ValueError):
            w.add_stream("bad", {"streamtype": "analogsignal", "shape": (-1, 2, 3)})
        with pytest.raises(ValueError, match="'calibration' cannot be sent"):
            w.add_stream("meta", dict(SIG_PARAMS, calibration=object()))
        with pytest.raises(ValueError):
            w.write("sig", np.zeros((10, 3), np.float32))
        with pytest.raises(TypeError):
            w.write("sig", np.zeros((10, 16), np.complex64))
        with pytest.raises(KeyError):
            w.write("nope", np.zeros((10, 16), np.float32))
        assert w.write("sig", np.zeros((10, 16), np.int16))  # safe cast
        with pytest.raises(ValueError, match="overlaps"):
            w.write("sig", np.zeros((10, 16), np.float32), index=15)
    with pytest.raises(WriterError):
        w.write("sig", np.zeros((1, 16), np.float32))


def test_write_keeps_a_copy_of_its_own(tmp_path):
    """Unless told the chunk is checked and never modified, write() copies it: the caller
    may reuse its array at once (any memory layout)."""
    path = tmp_path / "rec"
    with RecordingWriter(path, block_s=3600) as w:
        w.add_stream("sig", SIG_PARAMS)
        a, b = analog(0, 100), np.asfortranarray(analog(100, 200))
        w.write("sig", a)
        w.write("sig", b)
        a[:], b[:] = 0, 0
    np.testing.assert_array_equal(open_recording(path)["sig"][0:200], analog(0, 200))


def test_manifest_changes_are_written_by_the_writer_thread(tmp_path, monkeypatch):
    """set_stream_clock() never waits on the file: the writer thread writes the manifest."""
    from acqflow.storage import target
    writers, real = [], target.write_atomic

    def write_atomic(path, data):
        writers.append(threading.current_thread().name)
        return real(path, data)
    path = tmp_path / "rec"
    with RecordingWriter(path) as w:
        w.add_stream("sig", SIG_PARAMS)
        monkeypatch.setattr(target, "write_atomic", write_atomic)
        w.set_stream_clock("sig", {"id": "amp", "offset": 0.5})
        w.flush(timeout=10)
        assert writers and all(name.startswith("acqflow-writer:") for name in writers)
        assert json.loads((path / MANIFEST).read_text())["streams"][0]["clock_sync"] == \
            {"id": "amp", "offset": 0.5}


def test_gaps_and_default_index(tmp_path):
    path = tmp_path / "rec"
    with RecordingWriter(path) as w:
        w.add_stream("sig", SIG_PARAMS)
        w.write("sig", analog(0, 100))                 # index defaults to 100
        w.write("sig", analog(150, 200), 200)          # gap [100, 150)
        w.write("sig", analog(200, 230))
        w.write("sig", np.zeros((0, 16), np.float32), 260)  # declared gap, no data
        w.write("sig", analog(260, 270))
    assert w.stats()["streams"]["sig"]["gaps"] == 2
    assert w.stats()["streams"]["sig"]["gap_samples"] == 80
    s = open_recording(path)["sig"]
    assert s.gaps == [(100, 150), (230, 260)] and len(s) == 270 and s.n_samples == 190


def test_overflow_is_counted_and_reads_back_as_gap(tmp_path):
    """A stalled disk (here: a blocked on_seal) makes write() drop chunks, never block."""
    release = threading.Event()
    stalled = threading.Event()

    def on_seal(info):
        stalled.set()
        release.wait(30)

    path = tmp_path / "rec"
    w = RecordingWriter(path, block_bytes=1, queue_chunks=4, on_seal=on_seal)
    w.add_stream("sig", SIG_PARAMS)
    results = []
    stop = 0
    for k in range(20):
        results.append(w.write("sig", analog(stop, stop + 10), stop + 10))
        stop += 10
        if k == 0:
            assert stalled.wait(10)
    release.set()
    w.close()
    st = w.stats()
    assert results.count(False) == st["overflows"] == st["streams"]["sig"]["dropped_chunks"] > 0
    assert st["streams"]["sig"]["dropped_samples"] == 10 * results.count(False)
    s = open_recording(path)["sig"]
    assert s.n_samples == 10 * results.count(True)
    lost = sum(b - a for a, b in s.gaps) + (s.expected_stop - s.stop_index)
    assert lost == st["streams"]["sig"]["dropped_samples"]
    for start, data in s.chunks():
        np.testing.assert_array_equal(data, analog(start, start + len(data)))


def test_queue_bytes_cap(tmp_path):
    release = threading.Event()
    w = RecordingWriter(tmp_path / "rec", block_bytes=1, queue_bytes=2000,
                        on_seal=lambda info: release.wait(30))
    w.add_stream("sig", SIG_PARAMS)
    ok = [w.write("sig", analog(10 * k, 10 * k + 10)) for k in range(10)]  # 640 B each
    release.set()
    w.close()
    assert False in ok and w.stats()["overflows"] == ok.count(False)


@pytest.mark.parametrize("fsync", ["block", "interval", "none"])
def test_fsync_policies_and_segment_roll(tmp_path, fsync):
    path = tmp_path / "rec"
    make_recording(path, 60, block_s=0.001, block_bytes=3000, segment_bytes=10000, fsync=fsync)
    rec = open_recording(path, verify=True)
    assert rec.intact and len({b.segment for b in rec._index.blocks}) > 2
    check_stream_data(rec)


def test_flush_seals_block(tmp_path):
    path = tmp_path / "rec"
    seals = []
    with RecordingWriter(path, block_s=3600, on_seal=seals.append) as w:
        w.add_stream("sig", SIG_PARAMS)
        w.write("sig", analog(0, 10))
        w.flush(timeout=10)
        assert len(seals) == 1 and seals[0].records[0].stop == 10
        rec = open_recording(path)
        assert not rec.committed and rec["sig"].stop_index == 10
    assert rec.refresh() == 0 and rec.committed


def test_single_writer_lock(tmp_path):
    path = tmp_path / "rec"
    with RecordingWriter(path) as w:
        w.add_stream("sig", SIG_PARAMS)
        for mode in ("append", "overwrite"):
            with pytest.raises(RecordingExistsError, match="another writer"):
                RecordingWriter(path, mode)
        with pytest.raises(StorageError, match="being written"):
            open_recording(path).delete()
    with RecordingWriter(path, "append") as w:  # lock released on close
        pass
    open_recording(path).delete()
    assert not path.exists()
