"""The one bounded repr (short_repr) and the one to-plain conversion (to_plain), over nested values."""
from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from acqflow.dataflow.paramcheck import short
from acqflow.dataflow.plain import to_plain
from acqflow.dataflow.shortrepr import short_repr

scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=300)
           | st.binary(max_size=50))
nested = st.recursive(scalars, lambda inner: st.lists(inner, max_size=12)
                      | st.tuples(inner, inner)
                      | st.dictionaries(st.text(max_size=20), inner, max_size=12), max_leaves=60)


class _Sub(float):
    pass


class _Broken:
    def __repr__(self):
        raise RuntimeError("broken repr")


@settings(max_examples=150)
@given(nested, st.integers(3, 300))
def test_short_repr_is_bounded_and_never_raises(value, limit):
    text = short_repr(value, limit)
    assert len(text) <= limit and "\n" not in text
    assert len(short_repr(value)) <= 200


def test_short_repr_names_a_broken_repr_and_keeps_short_values_whole():
    assert short_repr(_Broken()).startswith("<_Broken")
    assert short_repr([1, "a"]) == "[1, 'a']"
    assert short is short_repr                 # paramcheck's name for the same function
    assert short_repr("x" * 10_000_000).count("x") <= 60


def _exact(value):
    """Only exact builtin types, lists and dicts all the way down."""
    if isinstance(value, list):
        return all(_exact(v) for v in value)
    if isinstance(value, dict):
        return all(_exact(k) and _exact(v) for k, v in value.items())
    return value is None or type(value) in (bool, int, float, str, bytes)


@settings(max_examples=150)
@given(nested)
def test_to_plain_gives_exact_builtins_and_equal_values(value):
    plain = to_plain(value)
    assert _exact(plain)
    assert to_plain(plain) == plain or any(isinstance(x, float) and math.isnan(x)
                                           for x in _leaves(plain))


@settings(max_examples=150)
@given(nested)
def test_to_plain_json_is_strict_json(value):
    value = {"v": value, "np": np.float32("nan"), "arr": np.arange(3), 7: _Sub(1.5)}
    text = json.dumps(to_plain(value, json=True), allow_nan=False, default=str)
    back = json.loads(text)
    assert back["np"] is None and back["arr"] == [0, 1, 2] and back["7"] == 1.5


def _leaves(value):
    if isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    else:
        yield value


def test_to_plain_numpy_subclasses_and_shallow_mode():
    assert to_plain(np.int16(3)) == 3 and type(to_plain(np.int16(3))) is int
    assert type(to_plain(np.bool_(True))) is bool and to_plain(np.str_("a")) == "a"
    assert to_plain(np.array([[1.5, 2.0]])) == [[1.5, 2.0]]
    assert to_plain((1, (2, 3))) == [1, [2, 3]]
    assert type(to_plain(_Sub(2.0))) is float and to_plain(True) is True
    assert to_plain(bytearray(b"ab")) == b"ab" and to_plain(memoryview(b"cd")) == b"cd"
    arr = np.zeros(2)
    shallow = to_plain({"a": arr}, deep=False)       # an encoder handles the items itself
    assert type(shallow) is dict and shallow["a"] is arr
    assert to_plain(float("inf")) == float("inf") and to_plain(float("inf"), json=True) is None
    other = object()
    assert to_plain([other])[0] is other
