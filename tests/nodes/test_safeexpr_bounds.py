"""The Expression language stays bounded: constructs whose size does not follow the input's
are refused at configure and by `acqflow run --check`; deep expressions give
ExpressionError, never RecursionError; what passes never allocates more than a bounded
multiple of the input."""
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from acqflow.nodes import Expression
from acqflow.nodes.safeexpr import FLOOR, GROWTH, ExpressionError, compile_expression
from tests.nodes.util import Pipeline

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# (expression, words the one-line refusal must contain)
BOMBS = [
    ("x + np.sum([0] * 9000000000) * 0", "a list or tuple as an operand of *"),
    ("[x] * 1000000000", "a list or tuple as an operand of *"),
    ("(x,) * 1000000000", "a list or tuple as an operand of *"),
    ("np.sum(-[0])", "a list or tuple as an operand of unary -"),
    ("[[0]][0] * 9000000000", "indexing a list or tuple"),
    ("'a' * 1000000000", "the constant 'a'"),
    ("10 ** 10 ** 10", "'10 ** 10 ** 10' fails (OverflowError"),
    ("x + (2 * 1) ** (2 * 99999999)", "'(2 * 1) ** (2 * 99999999)' fails (OverflowError"),
    ("np.real(2 * 5) ** np.real(5 * 999999999)", "fails (OverflowError"),
    ("x * 99999999999999999999999", "the integer 99999999999999999999999 is too large"),
    ("x * (3037000500 * 3037000500)", "the integer result of * exceeds 64 bits"),
    ("x * (1 / 0)", "'1 / 0' fails (ZeroDivisionError"),
    ("np.zeros(10 ** 12)", "calling 'np.zeros'"),
    ("np.ones(10 ** 12)", "calling 'np.ones'"),
    ("np.empty(10 ** 12)", "calling 'np.empty'"),
    ("np.arange(1e12)", "calling 'np.arange'"),
    ("np.tile(x, 1000000000)", "calling 'np.tile'"),
    ("np.repeat(x, 1000000000)", "calling 'np.repeat'"),
    ("np.full(10 ** 12, 0)", "calling 'np.full'"),
    ("np.linspace(0, 1, num=10 ** 12)", "calling 'np.linspace'"),
    ("np.outer(x, x)", "calling 'np.outer'"),
    ("x[:, None] * x[None, :]", "the constant None"),
    ("x[..., None]", "the constant Ellipsis"),
    ("np.where(x > 0) * 1000000000", "np.where with 1 positional arguments"),
    ("np.sqrt(x, x)", "np.sqrt with 2 positional arguments"),
    ("np.median(x, 0, x, True)", "np.median with 4 positional arguments"),
    ("np.nan_to_num(x, False)", "np.nan_to_num with 2 positional arguments"),
    ("[0 for i in x]", "ListComp"),
    ("np.sum(i for i in x)", "GeneratorExp"),
    ("0 < x < 1", "the chained comparison"),
    (" + ".join(["x"] * 400), "nested more than 100 levels deep"),
    ("+".join(["x"] * 5000), "nested more than 100 levels deep"),
    ("-" * 5000 + "x", "nested more than 100 levels deep"),
    ("**".join(["x"] * 3000), "nested more than 100 levels deep"),
    ("np.sum([" + ",".join(["0"] * 2500) + "])", "more than 2000 syntax nodes"),
]


@pytest.mark.parametrize("expr,words", BOMBS, ids=[e[:40] for e, _ in BOMBS])
def test_unbounded_constructs_are_refused_at_configure(expr, words):
    with pytest.raises(ExpressionError) as err:
        compile_expression(expr)
    text = str(err.value)
    assert words in text and "\n" not in text and len(text) < 500, text
    with pytest.raises(ValueError, match="expr"):
        Expression().configure(expr=expr)
    assert Expression.check_config({"expr": expr})


def test_check_refuses_each_bomb_in_one_line(tmp_path):
    """The real CLI: `acqflow run --check` on a graph with one Expression per bomb."""
    nodes = {"gen": {"type": "SyntheticSignal", "params": {"channels": 2}}}
    nodes.update({f"e{i}": {"type": "Expression", "params": {"expr": expr}}
                  for i, (expr, _) in enumerate(BOMBS)})
    graph = {"nodes": nodes, "connections": [{"from": "gen.signals", "to": f"e{i}.input"}
                                             for i in range(len(BOMBS))]}
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(graph))
    result = subprocess.run([sys.executable, "-m", "acqflow.commands", "run", "--check", str(path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "Traceback" not in out and "RecursionError" not in out and "MemoryError" not in out
    lines = out.splitlines()
    for i, (_, words) in enumerate(BOMBS):
        mine = [line for line in lines if f"nodes.e{i}.params.expr: expr " in line]
        assert len(mine) == 1 and words in mine[0] and len(mine[0]) < 600, (i, mine)


@pytest.mark.parametrize("expr", [
    "np.abs(x) * 2", "x[:, 0:1] - np.mean(x, axis=1, keepdims=True)", "x[:, [1, 0]]",
    "np.where(x > 0, x, 0)", "np.dot(x, [[1, 0], [0, 1]])", "np.sum([x, x], axis=0)",
    "x * 2 ** 62", "np.clip(x, -1, 1)", "np.round(x, decimals=2)", "-x // 2 % 3",
    " + ".join(["x"] * 90), "x ** 9 ** 9 * 0",
])
def test_legitimate_expressions_still_work(expr):
    x = np.arange(-6.0, 6.0).reshape(6, 2)
    with np.errstate(all="ignore"):
        expected = eval(expr, {"np": np, "x": x})    # noqa: S307 - the test's own strings
        np.testing.assert_allclose(compile_expression(expr)(x), expected)


def test_data_dependent_growth_stops_before_allocating():
    """Fancy indexing by the data can grow by a factor of the channels per level: the
    guard refuses it before numpy allocates, relative to the input's size."""
    f = compile_expression("x[(x[(x > 0) + 0] > 0) + 0]")
    assert f(np.ones((2, 3))).shape == (2, 3, 3, 3)    # small input: within the floor
    big = np.ones((1000, 64))
    with pytest.raises(ExpressionError, match=r"indexing an array of shape \(1000, 64\) would "
                                              r"hold 4096000 values \(at most 1024000"):
        f(big)
    with pytest.raises(ExpressionError, match="the result would hold"):
        compile_expression("[" + ", ".join(["x"] * 20) + "]")(big)


def test_node_counts_a_failing_chunk_and_goes_on(caplog):
    """At run time a failed evaluation is a dropped chunk (a gap), counted, in one log line;
    the node keeps running."""
    expr = "np.sum([" + ", ".join(["x"] * 20) + "], axis=0)"      # 20 x the chunk
    p = Pipeline(Expression(name="ex"), dict(dtype="float64", shape=(-1, 2)), expr=expr)
    p.send(np.ones((4, 2)))
    p.send(np.ones((5000, 2)))            # 200000 values > 16 x 10000: refused
    p.send(np.ones((3, 2)))
    p.sink.wait_index(5007)
    assert [i for i, _ in p.sink.chunks] == [4, 5007]
    np.testing.assert_array_equal(p.sink.data(), np.full((7, 2), 20.0))
    assert p.node.errors == 1 and p.node.state == "running"
    lines = [r.getMessage() for r in caplog.records if "node 'ex'" in r.getMessage()]
    assert len(lines) == 1 and "chunk ending at 5004 dropped; 1 so far" in lines[0]
    assert "would hold 200000 values" in lines[0] and "\n" not in lines[0]
    p.close()


# -- random expressions ------------------------------------------------------------------

X = np.linspace(-3.0, 3.0, 64 * 8).reshape(64, 8)       # 512 values: GROWTH x = 8192 < FLOOR
BOUND = max(GROWTH * X.size, FLOOR) * 16                # values x complex128's bytes


def expressions():
    from hypothesis import strategies as st
    leaves = st.sampled_from(["x", "x", "0", "1", "2", "-1", "2.5", "1e300", "pi", "inf", "nan",
                              "9000000000", "True", "[0]", "[x, x]", "(x, 1)", "None", "'a'",
                              "3037000500"])
    binops = st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "&", "|", "^", "<", "==", ">="])
    funcs = st.sampled_from(["np.abs", "np.sqrt", "np.where", "np.sum", "np.mean", "np.dot", "np.clip",
                             "np.cumsum", "np.maximum", "np.round", "np.real", "np.median", "power",
                             "np.zeros", "np.tile", "np.repeat", "np.outer", "np.linspace", "len"])
    index = st.sampled_from([":", "0", "-1", "1:3", "::2", ":, 0", ":, [0, 1, 1]", "x > 0",
                             "(x > 0) + 0", ":, None", "[0, 0, 0, 0]", "..., 0", "1:"])
    kw = st.sampled_from(["", ", axis=0", ", axis=1", ", keepdims=True", ", axis=(0, 1)",
                          ", decimals=3", ", num=10**9"])

    def extend(inner):
        return st.one_of(
            st.tuples(inner, binops, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(st.sampled_from(["-", "~", "+"]), inner).map(lambda t: f"{t[0]}{t[1]}"),
            st.tuples(funcs, st.lists(inner, min_size=1, max_size=3), kw)
              .map(lambda t: f"{t[0]}({', '.join(t[1])}{t[2]})"),
            st.tuples(inner, index).map(lambda t: f"{t[0]}[{t[1]}]"),
            st.lists(inner, min_size=1, max_size=4).map(lambda t: f"[{', '.join(t)}]"),
            st.tuples(inner, st.sampled_from(["*", "+"]), st.integers(0, 10 ** 10))
              .map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        )
    return st.recursive(leaves, extend, max_leaves=25)


def random_expressions_property(max_examples: int) -> None:
    """Either refused at configure, or evaluated on X to a bounded result or ExpressionError;
    never another exception type, never a large allocation (peak traced memory)."""
    import tracemalloc
    import warnings

    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(expressions())
    def prop(expr):
        try:
            f = compile_expression(expr)
        except ExpressionError:
            return
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                out = f(X)
        except ExpressionError as exc:
            assert "MemoryError" not in str(exc) and "\n" not in str(exc), (expr, exc)
            out = None
        peak = tracemalloc.get_traced_memory()[1] - before
        assert peak < 8 * BOUND, (expr, peak)
        if out is not None:
            assert np.asarray(out).nbytes <= BOUND, (expr, np.shape(out))

    tracemalloc.start()
    try:
        prop()
    finally:
        tracemalloc.stop()


def test_random_expressions_stay_bounded():
    """Runs in a child under RLIMIT_AS (+1 GB): a hole found here fails, never swaps."""
    script = (
        "import resource, sys\n"
        "sys.path.insert(0, %r)\n"
        "from tests.nodes import test_safeexpr_bounds as t\n"
        "size = int(open('/proc/self/statm').read().split()[0]) * resource.getpagesize()\n"
        "resource.setrlimit(resource.RLIMIT_AS, (size + 2**30, resource.RLIM_INFINITY))\n"
        "t.random_expressions_property(%d)\n") % (ROOT, 600)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_check_reports_a_hook_that_recurses_in_one_line():
    """`--check` turns a RecursionError or MemoryError of a node's check_config into a problem."""
    from acqflow.manager.check import check_node_params

    class Deep(Expression):
        @classmethod
        def check_config(cls, params):
            raise RecursionError("maximum recursion depth exceeded")
    assert check_node_params(Deep, {"expr": "x"}) == [
        "params: Deep could not be checked (RecursionError)"]
