"""Fuzzing the record fields compressed video added (flags, version-2 blocks): damaged
bytes give a clear BlockFormatError / DamagedBlockError or a counted loss, never a crash
and never wrong frames."""
import shutil

import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acqflow.storage import open_recording
from acqflow.storage.errors import StorageError
from acqflow.storage.format import BlockFormatError, Chunk, _records, build_block, decode_table
from acqflow.storage.manifest import segment_name
from tests.storage.videopk import record

pytest.importorskip("av")

field = st.one_of(st.integers(-2**40, 2**40), st.floats(allow_nan=True), st.none(),
                  st.booleans(), st.binary(max_size=4), st.lists(st.integers(), max_size=3))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(field, min_size=7, max_size=10), max_size=4))
def test_random_record_fields_are_rejected_or_valid(items):
    try:
        recs = _records(items, 1000)
    except BlockFormatError:
        return
    for r in recs:
        assert 0 <= r.poff and r.poff + r.nbytes <= 1000 and r.flags in (0, 1)


def test_flags_round_trip_and_old_tables_still_read():
    parts, recs = build_block(3, [Chunk(0, 0, 1, 1.0, b"key", None, 1), Chunk(0, 1, 1, 2.0, b"p", None),
                                  Chunk(1, 0, 5, 2.0, b"abcde", None)])
    seq, got = decode_table(b"".join(parts))
    assert seq == 3 and [r.flags for r in got] == [1, 0, 0]
    table = msgpack.unpackb(parts[-2])
    assert [len(r) for r in table] == [9, 8, 8]            # flags only where set


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    path = tmp_path_factory.mktemp("fz") / "rec"
    record(path, {"name": "h264", "lossless": True, "gop": 6}, n=30, block_s=0.001)
    return path, open_recording(path)["cam"][:]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pos=st.floats(0, 1, exclude_max=True), byte=st.integers(1, 255))
def test_damaged_segment_bytes_never_give_wrong_frames(clean, tmp_path_factory, pos, byte):
    src, frames = clean
    path = tmp_path_factory.mktemp("fzc") / "rec"
    shutil.copytree(src, path)
    seg = path / segment_name(0)
    data = bytearray(seg.read_bytes())
    k = int(pos * len(data))
    data[k] ^= byte
    seg.write_bytes(bytes(data))
    try:
        rec = open_recording(path)
        cam = rec["cam"]
        for s, chunk in cam.chunks():
            np.testing.assert_array_equal(chunk, frames[s:s + len(chunk)])
    except StorageError:           # DamagedBlockError or a frame that cannot decode
        return
    assert not rec.intact or len(cam) == 30
