"""Lazy dask / xarray views of stored streams: block-aligned chunks, gaps, statistics against
numpy, local and S3 (moto), threaded, process and distributed schedulers."""
import json

import numpy as np
import pytest

from acqflow.storage import GapError, open_recording
from tests.storage.source import NCH, make_recording, make_remote_recording

da = pytest.importorskip("dask.array")
import dask  # noqa: E402

pytestmark = pytest.mark.timeout(180)


def numpy_stats(x):
    return np.nanmean(x, 0), np.nanstd(x, 0), np.nanmin(x, 0), np.nanmax(x, 0)


def dask_stats(x):
    x = x.astype(np.float64)
    return da.nanmean(x, 0), da.nanstd(x, 0), da.nanmin(x, 0), da.nanmax(x, 0)


def check_stats(stream, arr, scheduler, **kw):
    got = dask.compute(*dask_stats(arr), scheduler=scheduler, **kw)
    want = numpy_stats(stream.read(fill="auto").astype(np.float64))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5)


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    path = tmp_path_factory.mktemp("dask") / "r"
    make_recording(path, 120, block_s=0.001, block_bytes=20000)
    return open_recording(path)


def test_chunks_are_block_aligned_and_lazy(rec):
    sig = rec["sig"]
    arr = sig.to_dask(chunk_bytes=40000)
    assert arr.shape == (len(sig), NCH) and arr.dtype == np.float32
    assert len(arr.chunks[0]) > 3 and arr.chunks[1] == (NCH,)
    a = sig._table.arrays
    block_firsts = set(a["start"][1:][a["block"][1:] != a["block"][:-1]].tolist())
    edges = np.cumsum(arr.chunks[0])[:-1] + sig.first_index
    assert set(edges.tolist()) <= block_firsts            # a chunk never splits a block
    blocks_per_chunk = [len(set(a["block"][(a["start"] >= s) & (a["start"] < e)].tolist()))
                        for s, e in zip([sig.first_index, *edges], [*edges, sig.stop_index])]
    assert max(blocks_per_chunk) > 1                      # small blocks are merged
    np.testing.assert_array_equal(arr.compute(scheduler="threads"), sig.read(fill="auto"))
    part = sig.to_dask(300, 900)
    np.testing.assert_array_equal(part[::7].compute(), sig.read(300, 900, fill="auto")[::7])


def test_gaps_become_nan_or_fill_or_raise(rec):
    sig = rec["sig"]
    g0, g1 = sig.gaps[0]
    arr = sig.to_dask().compute()
    assert np.isnan(arr[g0 - sig.first_index:g1 - sig.first_index]).all()
    in_gap = np.zeros(len(arr), bool)
    for a, b in sig.gaps:
        in_gap[a - sig.first_index:b - sig.first_index] = True
    assert np.isnan(arr[in_gap]).all() and not np.isnan(arr[~in_gap]).any()
    assert (sig.to_dask(fill=-1.0)[g0:g1].compute() == -1).all()
    with pytest.raises(GapError, match="'sig'"):
        sig.to_dask(fill=None).compute()
    sig.to_dask(0, g0, fill=None).compute()               # no gap inside: fine


def test_per_channel_statistics_threads_and_processes(rec):
    sig = rec["sig"]
    check_stats(sig, sig.to_dask(chunk_bytes=64000), "threads")
    check_stats(sig, sig.to_dask(chunk_bytes=64000), "processes", num_workers=2)


def test_events_stream(rec):
    ev = rec["ev"]
    got = ev.to_dask().compute()
    assert got.dtype == ev.dtype
    np.testing.assert_array_equal(got, ev.read())
    with pytest.raises(ValueError, match="'ev'"):
        ev.to_xarray()


def test_xarray_coordinates(rec):
    pytest.importorskip("xarray")
    sig = rec["sig"]
    x = sig.to_xarray(chunk_bytes=64000)
    assert x.dims == ("time", "channel") and list(x.channel.values) == [f"ch{c}" for c in range(NCH)]
    assert int(x.index[0]) == sig.first_index and int(x.index[-1]) == sig.stop_index - 1
    stored = ~np.isnan(sig.times())
    np.testing.assert_allclose(x.time.values[stored], sig.times()[stored])
    assert np.all(np.diff(x.time.values) > 0)             # gap times interpolated
    assert [tuple(g) for g in json.loads(x.attrs["gaps"])] == sig.gaps
    assert x.attrs["sample_rate"] == sig.sample_rate and x.attrs["units"] == "uV"
    means = x.astype(np.float64).mean("time").compute()   # skipna: gaps ignored
    np.testing.assert_allclose(means.values, np.nanmean(sig.read(fill="auto").astype(np.float64), 0),
                               rtol=1e-9)
    t0, t1 = float(x.time[100]), float(x.time[200])
    np.testing.assert_array_equal(x.sel(time=slice(t0, t1)).values, sig.read(100, 201))


def test_s3_recording_with_processes(s3, tmp_path):
    url, options = make_remote_recording(s3, tmp_path / "local", "dask/rec1", 60)
    sig = open_recording(url, storage_options=options)["sig"]
    arr = sig.to_dask(chunk_bytes=20000, storage_options=options)
    check_stats(sig, arr, "threads")
    check_stats(sig, arr, "processes", num_workers=2)      # each process opens it from S3


def test_many_recordings_on_a_distributed_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    recs = []
    for k in range(3):
        make_recording(tmp_path / f"r{k}", 40 + 20 * k)
        recs.append(open_recording(tmp_path / f"r{k}")["sig"])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        lazy = [da.nanstd(s.to_dask(chunk_bytes=20000).astype(np.float64), 0) for s in recs]
        got = client.compute(lazy, sync=True)
        assert set(client.run(lambda: __import__("os").getpid()).values()).isdisjoint(
            {__import__("os").getpid()})
    for s, g in zip(recs, got):
        np.testing.assert_allclose(g, np.nanstd(s.read(fill="auto").astype(np.float64), 0),
                                   rtol=1e-5)


def test_integer_stream_gaps_read_as_zero(tmp_path):
    from acqflow.storage import RecordingWriter
    params = {"streamtype": "analogsignal", "dtype": "int16", "shape": (-1, 2), "sample_rate": 100.0}
    with RecordingWriter(tmp_path / "ints") as w:
        w.add_stream("adc", params)
        w.write("adc", np.full((10, 2), 5, "int16"), 10, 1.0)
        w.write("adc", np.full((10, 2), 7, "int16"), 30, 2.0)        # [10, 20) never recorded
    adc = open_recording(tmp_path / "ints")["adc"]
    got = adc.to_dask().compute()
    assert got.dtype == np.int16 and adc.gaps == [(10, 20)]
    assert (got[:10] == 5).all() and (got[10:20] == 0).all() and (got[20:] == 7).all()
    assert (adc.to_dask(fill=-1)[10:20].compute() == -1).all()


def test_a_replaced_recording_is_refused_and_missing_dask_names_the_extra(tmp_path):
    import shutil
    from acqflow.storage import StorageError, dask_view
    from acqflow.testing import run_python
    make_recording(tmp_path / "r", 20)
    arr = open_recording(tmp_path / "r")["sig"].to_dask()
    shutil.rmtree(tmp_path / "r")
    make_recording(tmp_path / "r", 20)                    # same place, another recording
    dask_view._OPEN.clear()                               # as in a fresh worker process
    with pytest.raises(StorageError, match="not the .* this dask array was made from"):
        arr.compute(scheduler="threads")
    code = ("from acqflow.storage import open_recording\n"
            f"s = open_recording({str(tmp_path / 'r')!r})['sig']\n"
            "for f in (s.to_dask, s.to_xarray):\n"
            "    try:\n        f()\n    except ImportError as exc:\n        print(exc)\n")
    lines = run_python(code, block=["dask", "xarray"]).stdout.splitlines()
    assert len(lines) == 2 and all("pip install acqflow[dask]" in line for line in lines)
