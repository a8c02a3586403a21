import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from acqflow import RingBuffer
from acqflow.dataflow.errors import OverrunError
from acqflow.testing import examples


def ramp(start, n, ch=2, dtype="float32"):
    return (np.arange(start, start + n)[:, None] * 10 + np.arange(ch)).astype(dtype)


@pytest.mark.parametrize("double", [True, False])
def test_wrap_absolute_and_negative_indexing(double):
    r = RingBuffer((10, 2), "float32", double=double)
    r.new_chunk(ramp(0, 8))
    r.new_chunk(ramp(8, 6))
    assert (r.first_index(), r.index()) == (4, 14)
    np.testing.assert_array_equal(r[4:14], ramp(4, 10))
    np.testing.assert_array_equal(r[-3:], ramp(11, 3))
    np.testing.assert_array_equal(r[-5:-2], ramp(9, 3))
    np.testing.assert_array_equal(r[5:13:3], ramp(5, 8)[::3])
    np.testing.assert_array_equal(r[12], ramp(12, 1)[0])
    np.testing.assert_array_equal(r[-1], ramp(13, 1)[0])
    if double:
        assert r[4:14].base is not None   # a view, even across the wrap


@pytest.mark.parametrize("key", [slice(3, 10), slice(10, 15), slice(8, 6), 3, 14, -11])
def test_outside_window_is_index_error(key):
    r = RingBuffer((10, 2), "float32")
    r.new_chunk(ramp(0, 14)[:10])
    r.new_chunk(ramp(10, 4))
    with pytest.raises(IndexError, match="readable window"):
        r[key]


def test_gap_filled_with_fill_values():
    r = RingBuffer((10, 1), "float64")
    r.new_chunk(np.ones((2, 1)))
    r.new_chunk(np.full((2, 1), 2.0), index=8)
    out = r[0:8, ] if False else r[0:8]
    assert np.isnan(out[2:6]).all() and (out[:2] == 1).all() and (out[6:] == 2).all()
    ri = RingBuffer((10, 1), "int16")
    ri.new_chunk(np.ones((2, 1), "int16"))
    ri.new_chunk(np.ones((1, 1), "int16"), index=5)
    assert ri[0:5].ravel().tolist() == [1, 1, 0, 0, 1]
    rc = RingBuffer((4, 1), "float32", fill=-1)
    rc.new_chunk(np.zeros((1, 1), "float32"))
    rc.new_chunk(np.zeros((1, 1), "float32"), index=100)
    assert (rc.first_index(), rc[96:99].ravel().tolist()) == (96, [-1, -1, -1])


def test_first_chunk_with_offset_has_no_fill_before_it():
    r = RingBuffer((10, 1), "float32")
    r.new_chunk(np.ones((3, 1), "float32"), index=1000)
    assert (r.first_index(), r.index()) == (997, 1000)


def test_bad_chunks():
    r = RingBuffer((10, 2), "float32")
    with pytest.raises(ValueError, match="longer than the ring"):
        r.new_chunk(np.zeros((11, 2), "float32"))
    with pytest.raises(ValueError, match="shape"):
        r.new_chunk(np.zeros((3, 3), "float32"))
    with pytest.raises(TypeError, match="dtype"):
        r.new_chunk(np.zeros((3, 2), "float64"))
    r.new_chunk(np.zeros((3, 2), "float32"))
    with pytest.raises(ValueError, match="overlaps"):
        r.new_chunk(np.zeros((3, 2), "float32"), index=4)
    with pytest.raises(ValueError, match="step"):
        r[0:3:0]
    with pytest.raises(ValueError):
        RingBuffer((0, 2), "float32")


def test_axisorder_is_honoured_in_memory():
    r = RingBuffer((10, 3), "float32", double=False, axisorder=(1, 0))
    r.new_chunk(ramp(0, 10, ch=3))
    raw = r._buffer.base if r._buffer.base is not None else r._buffer
    assert raw.shape == (3, 10) and raw.flags.c_contiguous
    np.testing.assert_array_equal(r[0:10], ramp(0, 10, ch=3))
    np.testing.assert_array_equal(raw[1], ramp(0, 10, ch=3)[:, 1])


def test_structured_dtype():
    dt = np.dtype([("index", "int64"), ("label", "S16")])
    r = RingBuffer((5,), dt)
    ev = np.array([(1, b"a"), (7, b"bb")], dt)
    r.new_chunk(ev)
    assert r[0:2].tolist() == ev.tolist()


def test_shared_ring_attach_read_only_and_overrun():
    w = RingBuffer((8, 2), "float32", double=True, shmem="create")
    try:
        r = RingBuffer((8, 2), "float32", double=True, shmem=w.shm_id)
        w.new_chunk(ramp(0, 6))
        np.testing.assert_array_equal(r[0:6], ramp(0, 6))
        with pytest.raises(PermissionError):
            r.new_chunk(ramp(6, 1))
        with pytest.raises(ValueError):
            r[0:1][0, 0] = 5   # views handed to readers are read-only
        data = r.read(2, 6)
        w.new_chunk(ramp(6, 6))
        np.testing.assert_array_equal(data, ramp(2, 4))
        with pytest.raises(OverrunError):
            r.read(2, 6)
        with pytest.raises(ValueError, match="size, double"):
            RingBuffer((9, 2), "float32", double=True, shmem=w.shm_id)
        r.close()
    finally:
        w.close()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        RingBuffer((8, 2), "float32", shmem=w.shm_id or "acqflow_gone")


@settings(max_examples=examples(150), deadline=None)
@given(size=st.integers(1, 12), double=st.booleans(),
       ops=st.lists(st.tuples(st.integers(0, 12), st.integers(0, 5)), min_size=1, max_size=25),
       q=st.tuples(st.integers(-30, 80), st.integers(-30, 80),
                   st.integers(-3, 3).filter(lambda k: k != 0)))
def test_ring_matches_numpy_reference(size, double, ops, q):
    """Against a plain array holding every sample ever written (NaN in gaps)."""
    ring = RingBuffer((size, 2), "float64", double=double)
    ref = np.zeros((0, 2))
    for n, gap in ops:
        n = min(n, size)
        chunk = np.random.default_rng(len(ref)).normal(size=(n, 2))
        end = len(ref) + gap + n
        ring.new_chunk(chunk, index=end)
        if len(ref) == 0 and gap:
            ref = np.full((gap, 2), np.nan)
        else:
            ref = np.concatenate([ref, np.full((gap, 2), np.nan)])
        ref = np.concatenate([ref, chunk])
    head = len(ref)
    first = ring.first_index()
    assert ring.index() == head
    start, stop, step = q
    a = start + head if start < 0 else start
    b = stop + head if stop < 0 else stop
    if step < 0:                   # numpy order: [b+1, a+1) read backwards
        a, b = b + 1, a + 1
    if first <= a <= b <= head:
        np.testing.assert_array_equal(ring[start:stop:step], ref[a:b][::step])
    else:
        with pytest.raises(IndexError):
            ring[start:stop:step]


def test_negative_step_bounds_are_not_read_twice_as_from_the_head():
    """Regression (hypothesis): ring[0:-3:-1] on a 1-sample ring returned data: the absolute
    start -1 was read again as 'one before the head'."""
    ring = RingBuffer((1, 2), "float32")
    ring.new_chunk(np.ones((1, 2), "float32"))
    with pytest.raises(IndexError, match=r"\[-1:1\]"):
        ring[0:-3:-1]
    np.testing.assert_array_equal(ring[0:-2:-1], np.ones((1, 2), "float32"))


def test_shmem_false_is_a_local_ring():
    """Regression (found by mypy): shmem=False, pyacq's 'not shared', raised a TypeError
    from trying to attach a segment named False."""
    ring = RingBuffer((4, 2), "float32", shmem=False)
    assert ring.segment is None and ring.writable
    ring.new_chunk(ramp(0, 3))
    np.testing.assert_array_equal(ring[0:3], ramp(0, 3))
