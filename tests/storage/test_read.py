"""Stored streams: slicing, time, gaps, independent readers, merge, live follow, delete."""
import threading

import numpy as np
import pytest

from acqflow.storage import (GapError, NotARecordingError, RecordingWriter, StorageError,
                             delete_recording, merge, open_recording)
from tests.storage.source import (BOUNDS, EV_PARAMS, RATE, SIG_PARAMS, T0, analog,
                                  chunk_range, make_recording, skipped, timestamp, write_chunks)

N_CHUNKS = 61


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    path = tmp_path_factory.mktemp("read") / "rec"
    make_recording(path, N_CHUNKS, block_s=0.001, block_bytes=5000)
    return open_recording(path)


def test_extent(rec):
    sig = rec["sig"]
    stop = chunk_range(N_CHUNKS - 1)[1]
    assert sig.first_index == 0 and sig.stop_index == stop and len(sig) == stop
    gaps = [chunk_range(k) for k in range(N_CHUNKS) if skipped(k)]
    assert sig.gaps == gaps
    assert sig.n_samples == stop - sum(b - a for a, b in gaps)
    assert sig.time_range == (T0, timestamp(stop))
    assert sig.expected_stop == stop
    assert list(rec) == ["sig", "ev"] and "sig" in rec


def test_a_recording_is_a_read_only_mapping_of_its_streams(rec, tmp_path):
    from collections.abc import Mapping
    assert isinstance(rec, Mapping)
    assert len(rec) == 2 and list(rec.keys()) == ["sig", "ev"]
    assert list(rec.values()) == [rec["sig"], rec["ev"]]
    assert dict(rec.items()) == {"sig": rec["sig"], "ev": rec["ev"]}
    assert rec.get("nope") is None and "nope" not in rec and rec.get("sig") is rec["sig"]
    assert rec == rec and rec != open_recording(rec.url) and {rec: 1}[rec] == 1  # identity
    with pytest.raises(KeyError, match="no stream 'nope'"):
        rec["nope"]
    path = tmp_path / "rec"                              # deleted streams are left out
    make_recording(path, 3, block_s=0.001, block_bytes=5000)
    other = open_recording(path)
    other.delete_stream("ev")
    assert len(other) == 1 and list(other.items()) == [("sig", other["sig"])]
    other.close()


def test_index_slicing(rec):
    sig = rec["sig"]
    a, b = chunk_range(3)[0] + 5, chunk_range(6)[1] - 3  # inside, no gap (gap is chunk 7)
    np.testing.assert_array_equal(sig[a:b], analog(a, b))
    np.testing.assert_array_equal(sig[a], analog(a, a + 1)[0])
    np.testing.assert_array_equal(sig[a:b:3], analog(a, b)[::3])
    np.testing.assert_array_equal(sig[-10:], analog(sig.stop_index - 10, sig.stop_index))
    np.testing.assert_array_equal(sig[-1], analog(sig.stop_index - 1, sig.stop_index)[0])
    assert sig[a:a].shape == (0, 16)
    with pytest.raises(IndexError):
        sig[0:sig.stop_index + 1]
    with pytest.raises(IndexError):
        sig[b:a]
    with pytest.raises(TypeError):
        sig["x"]


def test_gaps_raise_or_fill(rec):
    sig = rec["sig"]
    g0, g1 = chunk_range(7)
    with pytest.raises(GapError) as err:
        sig[g0 - 5:g1 + 5]
    assert err.value.gaps == [(g0, g1)]
    out = sig.read(g0 - 5, g1 + 5, fill="auto")
    assert np.isnan(out[5:-5]).all()
    np.testing.assert_array_equal(out[:5], analog(g0 - 5, g0))
    np.testing.assert_array_equal(out[-5:], analog(g1, g1 + 5))
    assert (sig.read(g0, g1, fill=0) == 0).all()
    assert sig.gaps_in(g0 - 5, g1 + 5) == [(g0, g1)]
    assert np.isnan(sig.times(g0 - 1, g1 + 1)[1:-1]).all()


def test_time_mapping(rec):
    sig = rec["sig"]
    for i in (0, 17, 1234, sig.stop_index - 1):
        assert sig.time_at(i) == pytest.approx(T0 + i / RATE)
        assert sig.index_at(sig.time_at(i)) == i
    assert sig.index_at(T0 - 10) == 0
    assert sig.index_at(T0 + 1e6) == sig.stop_index
    times = sig.times(100, 200)
    np.testing.assert_allclose(times, T0 + np.arange(100, 200) / RATE)


def test_time_slice(rec):
    sig = rec["sig"]
    a, b = chunk_range(8)[0] + 5, chunk_range(18)[1] - 5  # no gap in between
    t0 = sig.time_at(a) - 0.0004   # between samples a-1 and a
    t1 = sig.time_at(b) - 0.0004
    np.testing.assert_array_equal(sig.time_slice(t0, t1), analog(a, b))
    assert sig.time_to_indexes(t1, t0) == (b, b)
    g0, g1 = chunk_range(7)
    with pytest.raises(GapError):
        sig.time_slice(sig.time_at(g0 - 1), sig.time_at(g1 + 1))
    assert sig.time_slice(sig.time_at(g0 - 1), sig.time_at(g1 + 1), fill="auto").shape[0] \
        == g1 + 2 - g0


def test_events(rec):
    ev = rec["ev"]
    ks = [k for k in range(N_CHUNKS) if k % 5 == 0 and not skipped(k)]
    assert len(ev) == len(ks)
    events = ev[:]
    assert list(events["index"]) == [int(BOUNDS[k]) for k in ks]
    assert [e.decode() for e in events["label"]] == [f"k{k}" for k in ks]
    # event times are their chunk timestamps
    assert ev.time_at(1) == pytest.approx(timestamp(int(BOUNDS[ks[1]])))
    assert ev.index_at(timestamp(int(BOUNDS[ks[2]]))) == 2
    assert len(ev.time_slice(timestamp(int(BOUNDS[ks[1]])), timestamp(int(BOUNDS[ks[3]])))) == 2


def test_independent_readers(rec):
    sig = rec["sig"]
    with sig.reader() as r1, sig.reader(start=1000) as r2:
        assert sig.n_readers == 2
        stop1, d1 = r1.read()
        stop2, d2 = r2.read(n=7)
        assert r1.tell() == stop1 == chunk_range(0)[1]
        np.testing.assert_array_equal(d1, analog(0, stop1))
        assert stop2 == 1007 and r2.tell() == 1007
        np.testing.assert_array_equal(d2, analog(1000, 1007))
        stop1b, _ = r1.read()
        assert stop1b == chunk_range(1)[1] and r2.tell() == 1007
        np_r2 = r2[10:20]
        np.testing.assert_array_equal(np_r2, analog(10, 20))
        r2.seek(chunk_range(7)[0] - 3)
        stop, data = r2.read()
        assert stop == chunk_range(7)[0] and len(data) == 3
        stop, data = r2.read()              # jumps the gap, and says so
        assert stop - len(data) == chunk_range(8)[0] and r2.gaps == [chunk_range(7)]
    assert sig.n_readers == 0
    pieces = list(sig.reader())
    assert sum(len(d) for _, d in pieces) == sig.n_samples
    assert sig.reader(start=sig.stop_index).read() is None


def test_merge_in_time_order(rec):
    items = list(rec.merge())
    times = [t for _, (_, _, t) in items]
    assert times == sorted(times)
    assert {n for n, _ in items} == {"sig", "ev"}
    assert sum(len(d) for n, (_, d, _) in items if n == "sig") == rec["sig"].n_samples
    # each event comes right after the chunk it was written with (same timestamp, order)
    for k, (name, (stop, data, t)) in enumerate(items):
        if name == "ev":
            assert items[k - 1][0] == "sig" and items[k - 1][1][0] == data["index"][0]
    t0, t1 = rec["sig"].time_at(500), rec["sig"].time_at(900)
    part = list(merge([rec["sig"]], t0, t1))
    got = np.concatenate([d for _, (_, d, _) in part])
    np.testing.assert_array_equal(got, analog(500, 900))


def test_merge_across_recordings(tmp_path, rec):
    other_path = tmp_path / "other"
    with RecordingWriter(other_path) as w:
        w.add_stream("slow", {"streamtype": "analogsignal", "shape": (-1, 1), "sample_rate": 1})
        for k in range(5):
            w.write("slow", np.full((1, 1), k, np.float32), timestamp=T0 + 0.25 + k * 0.5)
    other = open_recording(other_path)
    items = list(merge([rec["sig"], other["slow"]]))
    times = [t for _, (_, _, t) in items]
    assert times == sorted(times) and sum(n == "slow" for n, _ in items) == 5


def test_live_follow(tmp_path):
    path = tmp_path / "live"
    w = RecordingWriter(path, block_s=3600)
    w.add_stream("sig", SIG_PARAMS)
    w.add_stream("ev", EV_PARAMS)
    rec = open_recording(path)
    assert rec["sig"].stop_index == 0 and not rec.committed
    got = []
    failures = []

    def follower():
        try:
            with rec["sig"].reader(follow=True) as r:
                for stop, data in r:
                    got.append((stop, data))
        except Exception as exc:  # surfaced below
            failures.append(exc)

    th = threading.Thread(target=follower)
    th.start()
    for k0 in range(0, 30, 5):
        write_chunks(w, k0, k0 + 5)
        w.flush(timeout=10)
    w.close()
    th.join(30)
    assert not th.is_alive() and not failures
    assert rec.committed
    total = np.concatenate([d for _, d in got])
    expected = np.concatenate([analog(*chunk_range(k)) for k in range(30) if not skipped(k)])
    np.testing.assert_array_equal(total, expected)


def test_follow_timeout_and_new_streams(tmp_path):
    path = tmp_path / "live"
    with RecordingWriter(path, block_s=3600) as w:
        w.add_stream("sig", SIG_PARAMS)
        rec = open_recording(path)
        r = rec["sig"].reader(follow=True)
        with pytest.raises(TimeoutError):
            r.read(timeout=0.05)
        w.add_stream("late", {"streamtype": "analogsignal", "shape": (-1, 1)})
        w.write("late", np.ones((3, 1), np.float32))
        w.flush(timeout=10)
        assert "late" not in rec and rec.refresh() == 1 and "late" in rec
        assert rec["late"][:].tolist() == [[1.0]] * 3


def test_delete_stream_and_recording(tmp_path):
    path = tmp_path / "rec"
    with RecordingWriter(path) as w:
        w.add_stream("a", {"streamtype": "analogsignal", "shape": (-1, 1)})
        w.add_stream("b", {"streamtype": "analogsignal", "shape": (-1, 1)})
        w.write("a", np.ones((4, 1), np.float32))
        live = open_recording(path)
        with pytest.raises(StorageError):
            live["a"].delete()
    rec = open_recording(path)
    rec["b"].delete()
    assert list(rec) == ["a"] and list(open_recording(path)) == ["a"]
    with pytest.raises(KeyError):
        rec["b"]
    rec.delete()
    assert not path.exists()
    with pytest.raises(NotARecordingError):
        open_recording(path)
    other = tmp_path / "plain"
    other.mkdir()
    with pytest.raises(NotARecordingError):
        delete_recording(other)
    make_recording(tmp_path / "again", 3)
    delete_recording(tmp_path / "again")
    assert not (tmp_path / "again").exists()
