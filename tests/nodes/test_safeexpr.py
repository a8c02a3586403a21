"""The Expression node's restricted evaluator: array math only, escapes refused before
anything runs (issue 14, point 13)."""
import numpy as np
import pytest

from acqflow.nodes import Expression
from acqflow.nodes.safeexpr import ExpressionError, compile_expression

ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    "x.__class__",
    "x.ctypes",
    "np.__dict__",
    "np.load('/etc/passwd')",
    "__import__('os').system('true')",
    "open('/etc/passwd')",
    "[c for c in ().__class__.__bases__]",
    "(lambda: 1)()",
    "getattr(x, '__class__')",
    "x.view('S1')",
    "'a' * 10",
    "np.abs.__self__",
    "globals()",
    "x if x else x",
    "{}.keys()",
    "np.abs(x, out=x)",
    "x[().__class__]",
]


@pytest.mark.parametrize("expr", ESCAPES)
def test_escape_attempts_are_refused_before_running(expr):
    with pytest.raises(ExpressionError, match="not allowed"):
        compile_expression(expr)
    with pytest.raises(ValueError, match="not allowed"):
        Expression().configure(expr=expr)
    assert Expression.check_config({"expr": expr})


@pytest.mark.parametrize("expr,expected", [
    ("np.abs(x) * 2", lambda x: np.abs(x) * 2),
    ("abs(x) ** 0.5 + pi", lambda x: np.abs(x) ** 0.5 + np.pi),
    ("np.where(x > 0, x, 0)", lambda x: np.where(x > 0, x, 0)),
    ("x[:, 0:1] - np.mean(x, axis=1, keepdims=True)", lambda x: x[:, 0:1] - x.mean(axis=1, keepdims=True)),
    ("np.clip(x, -1, 1) * (x != 0) + ~(x > 1) * 0", lambda x: np.clip(x, -1, 1) * (x != 0)),
    ("-x // 2 % 3", lambda x: -x // 2 % 3),
    ("np.log10(np.sqrt(x ** 2 + 1))", lambda x: np.log10(np.sqrt(x ** 2 + 1))),
])
def test_array_math_evaluates(expr, expected):
    x = np.array([[-1.5, 2.0], [3.0, -4.0], [0.0, 0.5]])
    np.testing.assert_allclose(compile_expression(expr)(x), expected(x))


def test_huge_powers_are_refused_instead_of_hanging():
    """Integer powers compute in floats, and the parts without x run once at compile time."""
    with pytest.raises(ExpressionError, match=r"'9 \*\* 9 \*\* 9' fails \(OverflowError"):
        compile_expression("9 ** 9 ** 9")


@pytest.mark.parametrize("expr,match", [("x +", "not a valid expression"), (3, "must be a string"),
                                        ("(" * 500 + "x" + ")" * 500, "nested too deeply|not a valid"),
                                        ("x" * 20000, "characters long")])
def test_bad_expressions_are_one_clear_error(expr, match):
    with pytest.raises(ExpressionError, match=match) as err:
        compile_expression(expr)
    assert len(str(err.value)) < 400           # the bad value is quoted truncated
