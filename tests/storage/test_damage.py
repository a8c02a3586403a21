"""Torn and corrupted recordings: the reader keeps the valid prefix, reports the damage,
and never returns wrong data."""
import random
import shutil

import numpy as np
import pytest

from acqflow.storage import DamagedBlockError, RecordingWriter, open_recording, rebuild_index
from acqflow.storage.manifest import INDEX, segment_name
from tests.storage.source import (EV_PARAMS, SIG_PARAMS, analog, check_stream_data, event,
                                  make_recording, timestamp, write_chunks)


def _small_tail_recording(path):
    """30 one-chunk blocks, then a last small block holding both streams."""
    with RecordingWriter(path, block_s=60) as w:
        w.add_stream("sig", SIG_PARAMS)
        w.add_stream("ev", EV_PARAMS)
        write_chunks(w, 0, 30, flush_each=True)
        stop = w.stream_stop("sig")
        w.write("sig", analog(stop, stop + 2), stop + 2, timestamp(stop + 2))
        w.write("ev", event(30), None, timestamp(stop + 2))
    return stop


def _stops(rec):
    return rec["sig"].stop_index, rec["ev"].stop_index


@pytest.mark.parametrize("keep_index", [True, False])
def test_truncate_last_block_at_every_offset(tmp_path, keep_index):
    path = tmp_path / "rec"
    prev_sig_stop = _small_tail_recording(path)
    full = open_recording(path)
    blocks = full._index.blocks
    last = blocks[-1]
    prev = (prev_sig_stop, full["ev"].stop_index - 1)
    assert _stops(full) == (prev_sig_stop + 2, prev[1] + 1)
    if not keep_index:
        (path / INDEX).unlink()
    seg = path / segment_name(last.segment)
    original = seg.read_bytes()
    assert len(original) == last.end
    for cut in range(last.offset, last.end):
        seg.write_bytes(original[:cut])
        for verify in (False, True):
            rec = open_recording(path, verify=verify)
            assert rec.n_blocks == len(blocks) - 1
            assert _stops(rec) == prev
            assert rec.torn_bytes == cut - last.offset
            assert rec.committed and not rec.intact  # closed, yet sealed data is missing
            np.testing.assert_array_equal(rec["sig"][-10:], analog(prev[0] - 10, prev[0]))
            if cut % 40 == 0:
                check_stream_data(rec)
    seg.write_bytes(original)
    rec = open_recording(path, verify=True)
    assert rec.intact and _stops(rec) == _stops(full)


def test_missing_or_damaged_index_is_rebuilt(tmp_path):
    path = tmp_path / "rec"
    make_recording(path, 60, block_s=0.001, block_bytes=8000)
    ref = open_recording(path)
    index = (path / INDEX).read_bytes()
    rng = random.Random(7)
    for trial in range(25):
        if trial == 0:
            (path / INDEX).unlink()
        else:
            damaged = bytearray(index)
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
            (path / INDEX).write_bytes(bytes(damaged))
        rec = open_recording(path)
        assert rec.intact, rec.damage
        assert rec.n_blocks == ref.n_blocks and _stops(rec) == _stops(ref)
        check_stream_data(rec)


def test_rebuild_index_reproduces_it(tmp_path):
    path = tmp_path / "rec"
    make_recording(path, 60, block_s=0.001, block_bytes=8000, segment_bytes=50000)
    original = (path / INDEX).read_bytes()
    (path / INDEX).unlink()
    assert rebuild_index(path) == []
    assert (path / INDEX).read_bytes() == original
    (path / INDEX).write_bytes(original[:len(original) // 2] + b"garbage")
    assert rebuild_index(path) == []
    assert (path / INDEX).read_bytes() == original


def test_random_byte_flips_in_segments(tmp_path):
    path = tmp_path / "rec"
    make_recording(path, 80, block_s=0.001, block_bytes=6000)
    ref = open_recording(path)
    blocks = ref._index.blocks
    assert len(blocks) > 8
    segfile = path / segment_name(0)
    original = segfile.read_bytes()
    rng = random.Random(11)
    for _ in range(40):
        pos = rng.randrange(len(original))
        damaged = bytearray(original)
        damaged[pos] ^= 1 << rng.randrange(8)
        segfile.write_bytes(bytes(damaged))
        hit = next(k for k, b in enumerate(blocks) if b.offset <= pos < b.end)

        # verify=True: the valid prefix ends just before the damaged block.
        rec = open_recording(path, verify=True)
        assert not rec.intact and rec.damage[0].offset == blocks[hit].offset
        assert rec.n_blocks == hit
        check_stream_data(rec)

        # Lazy checking: reads return correct data or raise DamagedBlockError.
        rec = open_recording(path)
        assert rec.n_blocks == len(blocks)
        for name in ("sig", "ev"):
            s = rec[name]
            for k in range(s.n_records):
                start, stop, _t = s.record_bounds(k)
                try:
                    data = s.read(start, stop)
                except DamagedBlockError:
                    assert rec._index.blocks[s._table.arrays["block"][k]].offset == \
                        blocks[hit].offset
                    continue
                if name == "sig":
                    np.testing.assert_array_equal(data, analog(start, stop))
        if any("CRC" in d.reason for d in rec.damage):
            assert not rec.intact
    segfile.write_bytes(original)


def test_missing_middle_segment(tmp_path):
    path = tmp_path / "rec"
    make_recording(path, 120, block_s=0.001, block_bytes=4000, segment_bytes=20000)
    ref = open_recording(path)
    segs = sorted({b.segment for b in ref._index.blocks})
    assert len(segs) >= 3
    shutil.move(path / segment_name(segs[1]), tmp_path / "moved")
    rec = open_recording(path)
    assert not rec.intact
    assert {b.segment for b in rec._index.blocks} == {segs[0]}
    check_stream_data(rec)


def test_encoded_record_without_frame_sizes_is_damage(tmp_path):
    """Regression (found by mypy): a record of an encoded (video) stream whose table lists no
    frame sizes, well-formed and CRC-valid, made the reader raise TypeError from its decoder."""
    from acqflow.storage.format import HEADER_SIZE, Chunk, build_block, scan_blocks
    from acqflow.storage.manifest import SEGMENTS
    from tests.storage.video import H, W, smooth
    path = tmp_path / "rec"
    with RecordingWriter(path, block_s=3600) as w:
        w.add_stream("cam", {"streamtype": "video", "shape": (-1, H, W, 3), "sample_rate": 25.0},
                     codec="png")
        w.write("cam", smooth(0, 3), index=3, timestamp=100.0)
    for seg in sorted((path / SEGMENTS).iterdir()):
        raw = seg.read_bytes()
        out = []
        for info in scan_blocks(raw, 0, 0):
            body = memoryview(raw)[info.offset + HEADER_SIZE:]
            items = [Chunk(r.stream, r.start, r.n, r.t, bytes(body[r.poff:r.poff + r.nbytes]), None)
                     for r in info.records]
            out += build_block(info.seq, items)[0]
        seg.write_bytes(b"".join(out))
    (path / INDEX).unlink(missing_ok=True)
    rec = open_recording(path)
    with pytest.raises(DamagedBlockError, match="has no frame sizes"):
        rec["cam"].read(0, 3)
