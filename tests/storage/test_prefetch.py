"""recording.prefetch(t0, t1) over a real S3 server (moto): later reads in the range
are cache hits and make no new range request."""
import numpy as np
import pytest

from acqflow.storage import LocalCache, StorageError, open_recording
from tests.storage.source import analog, make_recording, make_remote_recording


@pytest.fixture(scope="module")
def remote(s3, tmp_path_factory):
    return make_remote_recording(s3, tmp_path_factory.mktemp("pf") / "rec", "prefetch/rec", 120,
                                 block_s=0.001, block_bytes=6000, segment_bytes=40000)


def count_requests(rec):
    calls = []
    fs = rec.backend.fs
    orig = fs.cat_file

    def counting(path, start=None, end=None, **kw):
        calls.append((path, start, end))
        return orig(path, start=start, end=end, **kw)
    fs.cat_file = counting
    return calls


def test_prefetch_makes_later_reads_cache_hits(remote, tmp_path, capsys):
    url, options = remote
    cache = LocalCache(tmp_path / "c", max_bytes=64 << 20)
    rec = open_recording(url, cache=cache, storage_options=options)
    sig = rec["sig"]
    t_start, t_end = sig.time_range
    t0 = t_start + (t_end - t_start) * 0.3
    t1 = t_start + (t_end - t_start) * 0.6
    calls = count_requests(rec)
    with rec.prefetch(t0, t1, progress=True) as pf:
        assert pf.fetched == pf.ranges > 1 and pf.cached == 0
        assert len(calls) == pf.fetched and pf.fetched_bytes == pf.bytes
        assert set(pf.streams) == {"sig", "ev"}
        before = cache.stats()
        n_calls = len(calls)
        data = sig.time_slice(t0, t1, fill="auto")
        i0, i1 = sig.time_to_indexes(t0, t1)
        expect = analog(i0, i1)
        for g0, g1 in sig.gaps_in(i0, i1):
            expect[g0 - i0:g1 - i0] = np.nan
        np.testing.assert_array_equal(data, expect)
        rec["ev"].time_slice(t0, t1)
        after = cache.stats()
        assert len(calls) == n_calls                       # no new range request
        assert after["hits"] > before["hits"] and after["misses"] == before["misses"]
    assert "prefetch" in capsys.readouterr().err          # the progress bar was drawn
    again = rec.prefetch(t0, t1, streams=["sig"], progress=False)
    assert again.fetched == 0 and again.cached == again.ranges > 0
    # outside the prefetched interval, reads still go to S3
    sig.time_slice(t_start, t_start + (t_end - t_start) * 0.1, fill=0)
    assert len(calls) > n_calls


def test_prefetch_whole_recording_default_cache_and_errors(remote, tmp_path, monkeypatch):
    url, options = remote
    monkeypatch.setenv("ACQFLOW_CACHE_DIR", str(tmp_path / "default"))
    rec = open_recording(url, storage_options=options)        # default cache from env
    assert rec.backend.cache.cache_dir == tmp_path / "default"
    pf = rec.prefetch()
    assert pf.fetched == pf.ranges and rec.backend.cache.stats()["entries"] == pf.ranges
    calls = count_requests(rec)
    for s in rec.streams.values():
        for _ in s.chunks():
            pass
    assert calls == []
    no_cache = open_recording(url, cache=False, storage_options=options)
    with pytest.raises(StorageError, match="prefetch needs a local cache"):
        no_cache.prefetch()
    monkeypatch.setenv("ACQFLOW_CACHE_SIZE_BYTES", "-1")       # -1 disables the default
    assert open_recording(url, storage_options=options).backend.cache is None


def test_prefetch_local_is_a_no_op(tmp_path):
    make_recording(tmp_path / "r", 5)
    pf = open_recording(tmp_path / "r").prefetch()
    assert pf.ranges == 0 and pf.fetched == 0
