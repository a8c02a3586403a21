"""Property test: any sequence of chunks and gaps reads back exactly, for any slice."""
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acqflow.storage import GapError, RecordingWriter, open_recording
from acqflow.testing import examples

chunks = st.lists(st.tuples(st.integers(1, 40), st.integers(0, 30), st.booleans()),
                  min_size=1, max_size=25)


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunks=chunks, block_bytes=st.sampled_from([1, 300, 10_000]),
       slices=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=8))
def test_roundtrip_any_chunking(chunks, block_bytes, slices):
    model = {}
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "rec"
        with RecordingWriter(path, block_bytes=block_bytes, block_s=3600) as w:
            w.add_stream("x", {"streamtype": "analogsignal", "dtype": "int32", "shape": (-1, 3),
                               "sample_rate": 100.0})
            stop = 0
            for n, gap, flush in chunks:
                start = stop + gap
                stop = start + n
                data = np.arange(start * 3, stop * 3, dtype=np.int32).reshape(-1, 3)
                model.update((i, data[i - start]) for i in range(start, stop))
                w.write("x", data, stop, timestamp=stop / 100.0)
                if flush:
                    w.flush()
        x = open_recording(path, verify=True)["x"]
        assert x.stop_index == stop and x.n_samples == len(model)
        first = x.first_index
        for a, b in slices:
            i, j = sorted((first + int(a * (stop - first)), first + int(b * (stop - first))))
            missing = [k for k in range(i, j) if k not in model]
            if missing:
                with pytest.raises(GapError):
                    x[i:j]
                got = x.read(i, j, fill=-1)
                assert all((got[k - i] == -1).all() for k in missing)
            else:
                got = x[i:j]
            for k in range(i, j):
                if k in model:
                    assert (got[k - i] == model[k]).all()
                    assert x.index_at(x.time_at(k)) == k
