"""The Expression evaluator's fast path (acqflow.nodes.safeexpr_fast): an input shape runs
unchecked only after a checked run of that shape passed, so it gives what the full check
gives on every chunk, and a chunk longer than any that passed is still checked and refused."""
import os
import subprocess
import sys

import numpy as np
import pytest

from acqflow.nodes import Expression
from acqflow.nodes.safeexpr import ExpressionError, compile_expression
from acqflow.nodes.safeexpr_fast import MAX_PROVEN
from tests.nodes.util import Pipeline

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SQUARE = "x[:, 0:1] * np.sum(x, axis=1)"      # (n, 1) * (n,): n x n values, 1024 n allowed at 64 ch


def test_a_shape_runs_unchecked_only_after_a_checked_run_passed():
    f = compile_expression("np.abs(x) * 2")
    x = np.random.default_rng(0).standard_normal((900, 64)).astype(np.float32)
    assert f.plain is not None and not f.proven.keys
    first, second = f(x), f(x[::-1].copy())
    assert f.proven.keys == {((900, 64), np.dtype(np.float32))}
    np.testing.assert_array_equal(first, np.abs(x) * 2)
    np.testing.assert_array_equal(second, np.abs(x[::-1]) * 2)
    assert not compile_expression("np.abs(x) * 2", fast=False).plain


def test_a_chunk_longer_than_the_proven_ones_is_still_refused():
    f = compile_expression(SQUARE)
    x = np.ones((1100, 64))
    for _ in range(2):                                  # checked, then unchecked
        assert f(x[:900]).shape == (900, 900)           # 810000 <= 16 x 57600
    with pytest.raises(ExpressionError, match=r"\* of shapes \(2000, 1\) and \(2000,\) would "
                                              r"hold 4000000 values \(at most 2048000"):
        f(np.ones((2000, 64)))
    with pytest.raises(ExpressionError, match=r"would hold 1210000 values \(at most 1126400"):
        f(x)
    assert f(x[:900]).shape == (900, 900)
    assert f.proven.keys == {((900, 64), np.dtype(np.float64))}


@pytest.mark.parametrize("expr", [
    "x[x > 0]", "x[(x > 0) + 0]", "x[:np.sum(x > 0)]", "np.sum(x, axis=np.sum(x > 0) % 2)",
    "np.sum(x, np.sum(x > 0) % 2)", "np.round(x, np.sum(x > 0) % 3)", "(x * 2)[np.abs(x) > 1]",
])
def test_an_index_or_axis_that_depends_on_the_data_is_checked_on_every_chunk(expr):
    f = compile_expression(expr)
    x = np.linspace(-2.0, 2.0, 40).reshape(20, 2)
    f(x)
    f(x)
    assert f.plain is None and not f.proven.keys


@pytest.mark.parametrize("expr", [
    "np.where(x > 0, x, np.mean(x))", "np.clip(x, np.min(x), 1)", "np.dot(x, [[1, 0], [0, 1]])",
    "np.sum([x, x ** 2], axis=0)", "x[:, [1, 0]] - x[0]", "np.maximum(x, np.sum(x, axis=0))",
    "2 ** 3 * x", "x ** 2 ** 2",
])
def test_shapes_that_follow_the_input_shape_are_proven(expr):
    f = compile_expression(expr)
    x = np.linspace(-2.0, 2.0, 40).reshape(20, 2)
    with np.errstate(all="ignore"):
        expected = compile_expression(expr, fast=False)(x)
        checked, plain = f(x), f(x)
    assert len(f.proven.keys) == 1
    for out in (checked, plain):
        assert out.dtype == expected.dtype
        np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("value", [
    [[1.0, 2.0]], np.float64(3.0), np.array([[1.0]], dtype=object), np.ma.array([[1.0, 2.0]]),
    np.zeros((2, 1), dtype="i4,f8"),
], ids=["list", "scalar", "object", "masked", "structured"])
def test_inputs_other_than_plain_number_arrays_are_never_proven(value):
    f = compile_expression("x")
    f(value)
    f(value)
    assert not f.proven.keys


def test_proven_shapes_stay_few():
    f = compile_expression("x + 1")
    for n in range(1, 3 * MAX_PROVEN):
        f(np.zeros((n, 2)))
        assert 1 <= len(f.proven.keys) <= MAX_PROVEN


def test_node_refuses_a_longer_chunk_after_shorter_ones_ran_unchecked():
    """A node: the same short chunk twice (checked, then unchecked), a long one past the
    bound (dropped, counted), the short one again."""
    expr = "np.sum([" + ", ".join(["x"] * 20) + "], axis=0)"      # 20 x the chunk
    p = Pipeline(Expression(name="ex"), dict(dtype="float64", shape=(-1, 2)), expr=expr)
    for n in (4, 4, 5000, 4):
        p.send(np.ones((n, 2)))
    p.sink.wait_index(5012)
    assert [i for i, _ in p.sink.chunks] == [4, 8, 5012]
    np.testing.assert_array_equal(p.sink.data(), np.full((12, 2), 20.0))
    proven = p.node.func.proven.keys                    # the 2-sample probe at connect, then 4
    assert p.node.errors == 1 and proven == {((n, 2), np.dtype(np.float64)) for n in (2, 4)}
    p.close()


# -- random expressions: the fast path agrees with the full check ------------------------

LENGTHS = [0, 1, 3, 64, 255, 256, 257, 410, 1000]   # at 8 channels: n x n past the floor from 257


def shaped_expressions():
    """Mostly valid expressions whose sizes follow the chunk length in different ways: n x n
    (a column times a row), a multiple of the input, data-dependent indexes and axes."""
    from hypothesis import strategies as st
    leaves = st.sampled_from(["x", "x", "x[:, 0:1]", "np.sum(x, axis=1)", "x[0]", "x[:, 0]",
                              "x[:, :3]", "1", "2.5", "-1", "np.mean(x)", SQUARE])
    binops = st.sampled_from(["+", "-", "*", "/", ">", "**", "&"])
    funcs = st.sampled_from(["np.abs", "np.sum", "np.mean", "np.maximum", "np.where", "np.clip",
                             "np.cumsum", "np.round", "np.median", "np.sqrt"])
    index = st.sampled_from([":", "0", ":, 0", "1:", "::2", "x > 0", "(x > 0) + 0",
                             ":np.sum(x > 0)", ":, [0, 0, 1]", "np.abs(x) > 1"])
    kw = st.sampled_from(["", ", axis=0", ", axis=1", ", keepdims=True", ", axis=np.sum(x > 9)"])

    def extend(inner):
        return st.one_of(
            st.tuples(inner, binops, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(funcs, st.lists(inner, min_size=1, max_size=3), kw)
              .map(lambda t: f"{t[0]}({', '.join(t[1])}{t[2]})"),
            st.tuples(inner, index).map(lambda t: f"{t[0]}[{t[1]}]"),
            st.lists(inner, min_size=1, max_size=20).map(lambda t: f"np.sum([{', '.join(t)}])"),
        )
    return st.recursive(leaves, extend, max_leaves=12)


def agreement_property(max_examples: int) -> None:
    """On random expressions and chunk lengths (each length seen more than once, new data
    every chunk), the fast evaluator returns or refuses exactly as the full check does."""
    import warnings

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.nodes.test_safeexpr_bounds import expressions
    unchecked = [0]

    @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.one_of(expressions(), shaped_expressions()), st.lists(st.sampled_from(LENGTHS), min_size=1, max_size=4),
           st.integers(0, 2 ** 32 - 1))
    def prop(expr, lengths, seed):
        try:
            fast, full = compile_expression(expr), compile_expression(expr, fast=False)
        except ExpressionError:
            return
        rng = np.random.default_rng(seed)
        for n in lengths + lengths:
            x = np.round(rng.standard_normal((n, 8)), 1)
            proven = len(fast.proven.keys) and (x,) in fast.proven
            outs = []
            for f in (fast, full):
                try:
                    with warnings.catch_warnings(), np.errstate(all="ignore"):
                        warnings.simplefilter("ignore")
                        outs.append(f(x))
                except ExpressionError as exc:
                    outs.append(str(exc))
            a, b = outs
            assert type(a) is type(b), (expr, n, a if isinstance(a, str) else b)
            if isinstance(a, str):
                assert a == b and not proven, (expr, n)
            else:
                assert a.dtype == b.dtype and a.shape == b.shape, (expr, n)
                np.testing.assert_array_equal(a, b, err_msg=f"{expr} at {n}")
                unchecked[0] += bool(proven)

    prop()
    assert unchecked[0] > max_examples // 10      # the fast path did run


@pytest.mark.slow
def test_random_expressions_give_the_same_with_and_without_the_fast_path():
    """Runs in a child under RLIMIT_AS (+1 GB): an unchecked run that grew would fail here."""
    from acqflow.testing import examples
    script = (
        "import resource, sys\n"
        "sys.path.insert(0, %r)\n"
        "from tests.nodes import test_safeexpr_fast as t\n"
        "size = int(open('/proc/self/statm').read().split()[0]) * resource.getpagesize()\n"
        "resource.setrlimit(resource.RLIMIT_AS, (size + 2**30, resource.RLIM_INFINITY))\n"
        "t.agreement_property(%d)\n") % (ROOT, max(examples(300), 60))
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
