"""A restricted evaluator of array expressions of ``x`` (the Expression node's language).

An expression is parsed with :mod:`ast` and every node is checked against a whitelist
before anything runs: numbers, the name ``x`` (and ``pi``, ``e``), arithmetic,
comparisons, ``&``/``|``/``~``, indexing with constants and slices, and calls of
numpy functions from a fixed table (``np.abs(x)`` or ``abs(x)``).  There is no
attribute access other than ``np.<name in the table>``, no strings, no dunder, no
builtins: ``().__class__.__base__.__subclasses__()`` is refused at parse time, not
evaluated.
"""
from __future__ import annotations

import ast
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from ..dataflow.shortrepr import short_repr

__all__ = ["compile_expression", "ExpressionError", "FUNCTIONS"]

FUNCTIONS = tuple(sorted({
    "abs", "absolute", "sqrt", "square", "cbrt", "exp", "exp2", "expm1", "log", "log2", "log10",
    "log1p", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh",
    "hypot", "degrees", "radians", "floor", "ceil", "rint", "round", "trunc", "sign", "power",
    "minimum", "maximum", "fmin", "fmax", "clip", "where", "mod", "fmod", "real", "imag", "angle",
    "conj", "isnan", "isfinite", "nan_to_num", "mean", "sum", "std", "var", "median", "amin",
    "amax", "min", "max", "cumsum", "prod", "dot", "logical_and", "logical_or", "logical_not",
}))
KEYWORDS = ("axis", "keepdims", "decimals", "nan", "posinf", "neginf")
_NAMES = {"pi": np.pi, "e": np.e, "inf": np.inf, "nan": np.nan}
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
           ast.BitAnd, ast.BitOr, ast.BitXor)
_UNARY = (ast.UAdd, ast.USub, ast.Invert)
_COMPARE = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


class ExpressionError(ValueError):
    """The expression is not valid Python or uses something outside the whitelist."""


def _np_namespace() -> SimpleNamespace:
    return SimpleNamespace(**{name: getattr(np, name) for name in FUNCTIONS if hasattr(np, name)})


class _Checker(ast.NodeVisitor):
    def __init__(self, variables: tuple[str, ...]):
        self.variables = variables

    def refuse(self, node: ast.AST, what: str) -> None:
        raise ExpressionError(f"{what} is not allowed (array math of "
                              f"{', '.join(self.variables)} only: numbers, + - * / // % **, "
                              f"comparisons, & | ~, indexing, np.<function>)")

    def generic_visit(self, node: ast.AST) -> None:
        self.refuse(node, type(node).__name__)

    def visit_Expression(self, node):
        self.visit(node.body)

    def visit_Constant(self, node):
        if type(node.value) not in (int, float, complex, bool):
            self.refuse(node, f"the constant {short_repr(node.value)}")

    def visit_Name(self, node):
        if node.id not in self.variables and node.id not in _NAMES:
            self.refuse(node, f"the name {short_repr(node.id)}")

    def visit_BinOp(self, node):
        if not isinstance(node.op, _BINOPS):
            self.refuse(node, type(node.op).__name__)
        self.visit(node.left)
        self.visit(node.right)

    def visit_UnaryOp(self, node):
        if not isinstance(node.op, _UNARY):
            self.refuse(node, type(node.op).__name__)
        self.visit(node.operand)

    def visit_Compare(self, node):
        if not all(isinstance(op, _COMPARE) for op in node.ops):
            self.refuse(node, "'in' / 'is'")
        self.visit(node.left)
        for c in node.comparators:
            self.visit(c)

    def visit_Subscript(self, node):
        self.visit(node.value)
        self.visit(node.slice)

    def visit_Slice(self, node):
        for part in (node.lower, node.upper, node.step):
            if part is not None:
                self.visit(part)

    def visit_Tuple(self, node):
        for elt in node.elts:
            self.visit(elt)

    visit_List = visit_Tuple

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id == "np" and func.attr in FUNCTIONS:
            pass
        elif isinstance(func, ast.Name) and func.id in FUNCTIONS:
            pass
        else:
            self.refuse(node, f"calling {short_repr(ast.unparse(func))} (functions: np.abs, "
                        f"np.sqrt, np.where... see acqflow.nodes.safeexpr.FUNCTIONS)")
        for arg in node.args:
            self.visit(arg)
        for kw in node.keywords:
            if kw.arg not in KEYWORDS:
                self.refuse(kw, f"the keyword {short_repr(kw.arg)}")
            self.visit(kw.value)

    def visit_Attribute(self, node):
        self.refuse(node, f"attribute access ({short_repr(ast.unparse(node))})")


class _FloatPowers(ast.NodeTransformer):
    """``9**9**9`` on Python ints would run for ever: powers compute in floats (and overflow)."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow):
            for side in ("left", "right"):
                operand = getattr(node, side)
                if isinstance(operand, ast.Constant) and type(operand.value) is int:
                    setattr(node, side, ast.copy_location(ast.Constant(float(operand.value)), operand))
        return node


def compile_expression(expr: Any, variables: tuple[str, ...] = ("x",)) -> Callable[..., Any]:
    """A function of ``variables`` evaluating ``expr``; ExpressionError when ``expr`` is
    not a valid expression or leaves the whitelist (nothing of it has run then)."""
    if not isinstance(expr, str):
        raise ExpressionError(f"expr must be a string expression of x, got {short_repr(expr)}")
    if len(expr) > 10_000:
        raise ExpressionError(f"expr is {len(expr)} characters long (at most 10000)")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"expr {short_repr(expr)} is not a valid expression: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"expr {short_repr(expr)} is nested too deeply") from None
    try:
        _Checker(variables).visit(tree)
    except ExpressionError as exc:
        raise ExpressionError(f"expr {short_repr(expr)}: {exc}") from None
    except RecursionError:
        raise ExpressionError(f"expr {short_repr(expr)} is nested too deeply") from None
    tree = ast.fix_missing_locations(_FloatPowers().visit(tree))
    code = compile(tree, "<expression>", "eval")
    scope = {"__builtins__": {}, "np": _np_namespace(), **_NAMES,
             **{name: getattr(np, name) for name in FUNCTIONS if hasattr(np, name)}}

    def evaluate(*args: Any) -> Any:
        return eval(code, scope, dict(zip(variables, args)))   # noqa: S307 - whitelisted AST
    return evaluate
