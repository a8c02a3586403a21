"""msgpack and JSON serializers: every supported type round-trips; big arrays go zero-copy."""
import datetime
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from acqflow.rpc import JsonSerializer, MsgpackSerializer, SerializationError
from acqflow.rpc.serializer import LARGE_ARRAY
from acqflow.testing import examples

SERIALIZERS = [MsgpackSerializer(), JsonSerializer()]
IDS = ["msgpack", "json"]


def roundtrip(ser, value):
    frames = ser.dumps(value)
    return ser.loads(frames[0], [memoryview(f) for f in frames[1:]])


def same_array(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


VALUES = [
    None, True, False, 0, -1, 2**63 - 1, -2**63, 1.5, float("inf"), "", "ünïcode", b"", b"\x00\xff",
    [], [1, [2, [3]]], {}, {"a": 1, "b": [None]}, (), (1, (2, 3), [4, (5,)]), {(1, 2): "tuple key"},
    {1: "int key", "__type__": "sneaky"}, {1, 2, 3}, frozenset({"x"}), 3 - 4j,
    datetime.datetime(2020, 1, 2, 3, 4, 5, 6), datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone(
        datetime.timedelta(hours=2))), datetime.date(1999, 12, 31), datetime.time(23, 59, 1),
    datetime.timedelta(days=-1, seconds=5, microseconds=7),
]


@pytest.mark.parametrize("ser", SERIALIZERS, ids=IDS)
@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:30] for v in VALUES])
def test_values_round_trip_with_types(ser, value):
    back = roundtrip(ser, value)
    assert back == value
    assert type(back) is type(value)
    if isinstance(value, tuple):
        assert [type(x) for x in back] == [type(x) for x in value]


@pytest.mark.parametrize("ser", SERIALIZERS, ids=IDS)
def test_nan_and_numpy_scalars(ser):
    assert math.isnan(roundtrip(ser, float("nan")))
    for scalar in [np.float32(1.5), np.int8(-3), np.uint64(2**64 - 1), np.bool_(True)]:
        back = roundtrip(ser, scalar)
        assert back == scalar
        if isinstance(ser, MsgpackSerializer):
            assert type(back) is type(scalar)
    for scalar in [np.datetime64("2020-01-01T00:00:00.123", "ns"), np.str_("abc"),
                   np.complex64(1 + 2j), np.timedelta64(5, "s")]:
        back = roundtrip(ser, scalar)
        assert back == scalar and back.dtype == scalar.dtype


ARRAYS = [
    np.arange(12, dtype=np.float64).reshape(3, 4),
    np.zeros((0, 3), dtype=np.int32),
    np.array(5, dtype=np.uint16),                       # 0-d
    np.arange(24).reshape(2, 3, 4)[:, ::2, 1:],          # non-contiguous
    np.asfortranarray(np.arange(20.).reshape(4, 5)),    # Fortran order
    np.array([b"ab", b"c"], dtype="S3"),
    np.array(["xyz", "é"], dtype="U3"),
    np.array(["2020-01-01", "NaT"], dtype="datetime64[ms]"),
    np.array([1 + 2j], dtype=">c16"),                   # big-endian
    np.zeros(3, dtype=[("t", "<f8"), ("xy", "<i2", (2,)), ("name", "S4")]),
    np.zeros(2, dtype=np.dtype([("a", "u1"), ("b", "<i4")], align=True)),
    np.zeros(2, dtype=[("outer", [("inner", "<f4"), ("flag", "?")]), ("c", "<u8")]),
    np.array([1, "two", None, (3,)], dtype=object),
    np.array([(1, "x")], dtype=[("n", "<i4"), ("o", "O")]),
    np.zeros((2, 2), dtype="V3"),
]


@pytest.mark.parametrize("ser", SERIALIZERS, ids=IDS)
@pytest.mark.parametrize("arr", ARRAYS, ids=[str(a.dtype)[:40] for a in ARRAYS])
def test_arrays_round_trip(ser, arr):
    back = roundtrip(ser, arr)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    if arr.dtype.hasobject:
        assert back.tolist() == arr.tolist()
    else:
        assert back.tobytes() == arr.tobytes()
        assert back.flags.writeable


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arr=hnp.arrays(dtype=st.one_of(hnp.scalar_dtypes(), hnp.nested_dtypes(), hnp.array_dtypes()),
                      shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)),
       use_json=st.booleans())
def test_any_dtype_any_shape_round_trips(arr, use_json):
    ser = SERIALIZERS[use_json]
    back = roundtrip(ser, arr)
    assert same_array(back, arr)


def test_large_arrays_travel_as_zero_copy_frames():
    ser = MsgpackSerializer()
    big = np.arange(LARGE_ARRAY // 8 + 10, dtype=np.float64)
    small = np.arange(10)
    frames = ser.dumps({"big": big, "small": small, "again": (big[::-1],)})
    assert len(frames) == 3                        # body + two array frames
    assert np.shares_memory(np.frombuffer(frames[1], dtype=np.uint8), big)   # nothing copied
    buffers = [bytearray(f) for f in frames[1:]]
    out = ser.loads(frames[0], buffers)
    assert np.array_equal(out["big"], big) and np.array_equal(out["small"], small)
    assert np.array_equal(out["again"][0], big[::-1])
    buffers[0][:8] = b"\xff" * 8                   # the decoded array views the frame
    assert np.isnan(out["big"][0])


def test_unserializable_without_server_is_an_error():
    for ser in SERIALIZERS:
        with pytest.raises(SerializationError, match="run_lazy"):
            ser.dumps({"x": object()})


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1),
                      st.floats(allow_nan=False), st.text(max_size=10), st.binary(max_size=10),
                      st.datetimes(), st.complex_numbers(allow_nan=False))
nested = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.one_of(st.text(max_size=5), st.integers(), st.tuples(st.integers())),
                    inner, max_size=4)), max_leaves=20)


@settings(max_examples=examples(300), deadline=None)
@given(value=nested, use_json=st.booleans())
def test_nested_values_round_trip(value, use_json):
    back = roundtrip(SERIALIZERS[use_json], value)
    assert back == value
    assert repr(back) == repr(value)              # same container types all the way down
