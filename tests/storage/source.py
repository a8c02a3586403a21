"""The deterministic reference signal every storage test writes and checks against.

Chunk ``k`` of stream 'sig' covers samples ``[B[k-1], B[k])`` (variable sizes);
chunks with ``k % 13 == 7`` are skipped, making source gaps; chunks with
``k % 5 == 0`` also emit one event ``(index=B[k], label=b'k<k>')``.
"""
from __future__ import annotations

import numpy as np

from acqflow.storage import RecordingWriter

NCH = 16
RATE = 1000.0
T0 = 1_700_000_000.0
EVENT_DTYPE = [("index", "int64"), ("label", "S16")]
SIG_PARAMS = {"streamtype": "analogsignal", "dtype": "float32", "shape": (-1, NCH),
              "sample_rate": RATE, "units": "uV",
              "channel_info": [{"name": f"ch{c}"} for c in range(NCH)]}
EV_PARAMS = {"streamtype": "event", "sample_rate": 1.0}
_SIZES = 20 + (np.arange(200_000) * 37) % 61
BOUNDS = np.cumsum(_SIZES)  # BOUNDS[k] = stop index of chunk k


def chunk_range(k: int) -> tuple[int, int]:
    """[start, stop) of chunk k."""
    return int(BOUNDS[k - 1]) if k else 0, int(BOUNDS[k])


def skipped(k: int) -> bool:
    """Chunks the source never sends (gaps)."""
    return k % 13 == 7


def analog(start: int, stop: int) -> np.ndarray:
    """Samples [start, stop) of 'sig': exact float32 values from the absolute index."""
    i = np.arange(start, stop, dtype=np.int64)[:, None]
    c = np.arange(NCH, dtype=np.int64)[None, :]
    return (((i * 7919 + c * 104729) % 1_000_003) - 500_000).astype(np.float32) / 8


def timestamp(stop: int) -> float:
    """Chunk timestamp: time of its last sample."""
    return T0 + (stop - 1) / RATE


def event(k: int) -> np.ndarray:
    """The event emitted with chunk k."""
    ev = np.zeros(1, EVENT_DTYPE)
    ev["index"] = BOUNDS[k]
    ev["label"] = f"k{k}".encode()
    return ev


def first_chunk_at(stop: int) -> int:
    """Number of the chunk starting at absolute ``stop`` (a chunk boundary)."""
    return 0 if stop == 0 else int(np.searchsorted(BOUNDS, stop)) + 1


def write_chunks(w: RecordingWriter, k0: int, k1: int, flush_each: bool = False) -> None:
    """Feed chunks [k0, k1) of the reference signal to a writer."""
    for k in range(k0, k1):
        if skipped(k):
            continue
        start, stop = chunk_range(k)
        w.write("sig", analog(start, stop), stop, timestamp(stop))
        if k % 5 == 0:
            w.write("ev", event(k), None, timestamp(stop))
        if flush_each:
            w.flush()


def make_recording(path, n_chunks: int = 100, flush_each: bool = False, **kw) -> dict:
    """Write the reference recording (closed) and return the writer stats."""
    with RecordingWriter(path, **kw) as w:
        w.add_stream("sig", SIG_PARAMS)
        w.add_stream("ev", EV_PARAMS)
        write_chunks(w, 0, n_chunks, flush_each)
    return w.stats()


def make_remote_recording(s3, local, key: str, n_chunks: int, **kw) -> tuple[str, dict]:
    """Write the reference recording at ``local``, upload it to ``key`` in the test bucket
    of the ``s3`` fixture; returns its URL and the storage options."""
    from tests.conftest import S3_BUCKET
    from acqflow.storage import upload
    options, _fs = s3
    make_recording(local, n_chunks, **kw)
    url = f"s3://{S3_BUCKET}/{key}"
    upload(local, url, options)
    return url, options


def check_stream_data(rec, allow_missing_tail: bool = True) -> tuple[int, int]:
    """Assert every stored sample/event equals the source; returns (sig stop, ev stop)."""
    sig = rec["sig"]
    stop = sig.stop_index
    if stop:
        assert sig.first_index == 0
        for s, data in sig.chunks():
            np.testing.assert_array_equal(data, analog(s, s + len(data)))
        expected_gaps = []
        k = 0
        while BOUNDS[k] <= stop:
            if skipped(k):
                expected_gaps.append(chunk_range(k))
            k += 1
        gaps, want = list(sig.gaps), [g for g in expected_gaps if g[1] <= stop]
        assert gaps == want, (gaps, want, stop)
    ev = rec["ev"]
    if ev.stop_index:
        events = ev.read()
        ks = [int(lbl[1:]) for lbl in events["label"]]
        assert ks == sorted(ks) and all(k % 5 == 0 and not skipped(k) for k in ks)
        assert list(events["index"]) == [int(BOUNDS[k]) for k in ks]
        assert max(events["index"]) <= max(stop, 0) or not allow_missing_tail
    return stop, ev.stop_index
