"""Recordings on a real S3 server (moto, on 127.0.0.1) read through the local LRU cache."""
import numpy as np
import pytest

from acqflow.storage import (DamagedBlockError, LocalCache, RecordingWriter, delete_recording,
                             open_recording, upload)
from tests.storage.source import (EV_PARAMS, SIG_PARAMS, analog, check_stream_data,
                                  chunk_range, make_recording, make_remote_recording,
                                  write_chunks)

from tests.conftest import S3_BUCKET as BUCKET

s3fs = pytest.importorskip("s3fs")
pytest.importorskip("moto.server")


@pytest.fixture(scope="module")
def uploaded(s3, tmp_path_factory):
    local = tmp_path_factory.mktemp("s3src") / "rec"
    url, options = make_remote_recording(s3, local, "sessions/rec1", 80, block_s=0.001,
                                         block_bytes=6000, segment_bytes=30000)
    return url, options, local


def test_read_through_cache(uploaded, tmp_path):
    url, options, local = uploaded
    cache = LocalCache(tmp_path / "cache", max_bytes=64 << 20)
    rec = open_recording(url, cache=cache, storage_options=options)
    ref = open_recording(local)
    assert rec.committed and rec.intact and rec.n_blocks == ref.n_blocks
    assert rec["sig"].gaps == ref["sig"].gaps
    check_stream_data(rec)
    first = cache.stats()
    assert first["misses"] > 0 and first["hits"] == 0 and first["entries"] == first["misses"]
    # A new Recording (fresh in-memory state) is served from the disk cache.
    again = open_recording(url, cache=LocalCache(tmp_path / "cache", max_bytes=64 << 20),
                           storage_options=options)
    a, b = chunk_range(8)[0], chunk_range(18)[1]
    np.testing.assert_array_equal(again["sig"][a:b], analog(a, b))
    st = again.backend.cache.stats()
    assert st["hits"] > 0 and st["misses"] == 0


def test_eviction_under_small_cap(uploaded, tmp_path):
    url, options, _local = uploaded
    cap = 40_000
    cache = LocalCache(tmp_path / "small", max_bytes=cap)
    rec = open_recording(url, cache=cache, storage_options=options)
    check_stream_data(rec)
    st = cache.stats()
    assert st["evictions"] > 0 and 0 < st["current_size"] <= cap
    on_disk = sum(p.stat().st_size for p in (tmp_path / "small").iterdir()
                  if not p.name.startswith("."))
    assert on_disk == st["current_size"]
    # Reading the start again misses (evicted), the end hits (most recent).
    rec2 = open_recording(url, cache=cache, storage_options=options)
    before = cache.stats()
    rec2["sig"][-20:]
    mid = cache.stats()
    assert mid["hits"] > before["hits"] and mid["misses"] == before["misses"]
    rec2["sig"][:20]
    assert cache.stats()["misses"] > mid["misses"]
    assert cache.stats()["current_size"] <= cap


def test_verify_and_damage_remote(uploaded, s3):
    url, options, _local = uploaded
    _opts, fs = s3
    rec = open_recording(url, verify=True, storage_options=options)
    assert rec.intact
    # a copy with a truncated last segment and no index
    dst = f"s3://{BUCKET}/sessions/torn"
    fs.copy(url.replace("s3://", "") + "/", dst.replace("s3://", "") + "/", recursive=True)
    segs = sorted(fs.ls(f"{BUCKET}/sessions/torn/segments"))
    last = fs.cat_file(segs[-1])
    fs.pipe_file(segs[-1], last[:-7])
    fs.rm(f"{BUCKET}/sessions/torn/index.afidx")
    torn = open_recording(dst, storage_options=options)
    assert torn.torn_bytes > 0 and not torn.intact
    check_stream_data(torn)
    delete_recording(dst, options)
    assert not fs.exists(f"{BUCKET}/sessions/torn")


def test_live_follow_over_s3(s3, tmp_path):
    """Incremental uploads of a recording being written appear to a remote follower."""
    options, _fs = s3
    local = tmp_path / "live"
    url = f"s3://{BUCKET}/sessions/live"
    w = RecordingWriter(local, block_s=3600)
    w.add_stream("sig", SIG_PARAMS)
    w.add_stream("ev", EV_PARAMS)
    write_chunks(w, 0, 10)
    w.flush(timeout=10)
    upload(local, url, options)
    rec = open_recording(url, storage_options=options)
    n0 = rec["sig"].stop_index
    assert n0 > 0 and not rec.committed
    write_chunks(w, 10, 20)
    w.close()
    upload(local, url, options)
    assert rec.refresh() >= 1 and rec.committed
    assert rec["sig"].stop_index > n0
    check_stream_data(rec)


def test_damaged_remote_range_is_not_kept_in_cache(s3, tmp_path):
    options, fs = s3
    local = tmp_path / "rec"
    make_recording(local, 20, block_s=0.001, block_bytes=4000)
    url = f"s3://{BUCKET}/sessions/flip"
    upload(local, url, options)
    seg = f"{BUCKET}/sessions/flip/segments/000000.afseg"
    good = fs.cat_file(seg)
    rec = open_recording(local)
    last = rec._index.blocks[-1]
    bad = bytearray(good)
    bad[last.offset + 40] ^= 0xFF  # inside the payload of the last block
    fs.pipe_file(seg, bytes(bad))
    cache = LocalCache(tmp_path / "cache", max_bytes=1 << 20)
    remote = open_recording(url, cache=cache, storage_options=options)
    with pytest.raises(DamagedBlockError):
        check_stream_data(remote)
    assert not remote.intact
    fs.pipe_file(seg, good)  # repaired upstream: the bad range was not cached
    check_stream_data(open_recording(url, cache=cache, storage_options=options))
