"""The Expression evaluator's fast path: one guarded run proves an input shape, later runs skip the checks.

In most expressions the shape of every intermediate follows from the inputs' shapes
and dtypes alone (nothing decides an index, an ``axis`` or a reduction's argument from
the data): :func:`static_shapes` tells.  Then the run-time guard of
:mod:`acqflow.nodes.safeexpr` compares the same numbers on every chunk of a given
shape and dtype, so once a guarded run of that shape has passed, the same expression
on the same shape passes again: :class:`ProvenShapes` remembers those inputs and
:func:`unguarded` is the same expression without the checks.  A new shape (a longer
chunk), an ndarray subclass, an object dtype or a data-dependent expression always takes
the guarded path, which checks every operation before it allocates.
"""
from __future__ import annotations

import ast
from typing import Any, Callable, Hashable

import numpy as np

__all__ = ["static_shapes", "unguarded", "shapes_key", "ProvenShapes", "MAX_PROVEN"]

MAX_PROVEN = 64             # shapes remembered per expression (then forgotten all at once)
_PLAIN_KINDS = "biufc"      # bool, ints, floats, complex: the size of such an array is its memory
_BROADCASTING = ("where", "clip", "dot")   # non-ufuncs whose output shape follows their arguments'


def _uses(node: ast.AST, variables: tuple[str, ...]) -> bool:
    """Whether ``node``'s value depends on ``variables``."""
    return any(isinstance(n, ast.Name) and n.id in variables for n in ast.walk(node))


def _function_name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def static_shapes(tree: ast.AST, variables: tuple[str, ...]) -> bool:
    """True when no index, keyword, or argument that is not broadcast depends on
    ``variables``: every intermediate's shape then follows from the inputs' shapes alone."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _uses(node.slice, variables):
            return False                          # x[x > 0], x[:np.sum(x > 0)]
        if isinstance(node, ast.Call):
            if any(_uses(kw.value, variables) for kw in node.keywords):
                return False                      # np.sum(x, axis=...x...)
            name = _function_name(node.func)
            func = getattr(np, name, None)
            shaped = len(node.args) if isinstance(func, np.ufunc) or name in _BROADCASTING else 1
            if any(_uses(arg, variables) for arg in node.args[shaped:]):
                return False                      # np.sum(x, ...x...) is an axis
    return True


def _pow(a: Any, b: Any) -> Any:
    """``a ** b`` as the guard computes it: Python integer powers in floats."""
    if type(a) in (int, bool) and type(b) in (int, bool):
        return float(a) ** b
    return a ** b


class _FloatPowers(ast.NodeTransformer):
    """Rewrites ``a ** b`` into ``_pow(a, b)``."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow):
            return ast.Call(ast.Name("_pow", ast.Load()), [node.left, node.right], [])
        return node


def unguarded(text: str, variables: tuple[str, ...], scope: dict) -> Callable[..., Any]:
    """``text`` (already checked and proven) as a plain function of ``variables``, with the
    guard's semantics (integer powers in floats) and none of its checks."""
    body = _FloatPowers().visit(ast.parse(text, mode="eval")).body
    params = ast.arguments(posonlyargs=[], args=[ast.arg(v) for v in variables], vararg=None,
                           kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    tree = ast.fix_missing_locations(ast.Expression(ast.Lambda(params, body)))
    code = compile(tree, "<expression>", "eval")
    func: Callable[..., Any] = eval(code, {**scope, "_pow": _pow})  # noqa: S307 - checked AST
    return func


def shapes_key(args: tuple) -> Hashable:
    """What a guarded run's checks depend on: each argument's shape and dtype (None when
    one is not a plain ndarray)."""
    if len(args) == 1:
        a = args[0]
        return (a.shape, a.dtype) if type(a) is np.ndarray else None
    if all(type(a) is np.ndarray for a in args):
        return tuple([(a.shape, a.dtype) for a in args])
    return None


class ProvenShapes:
    """The input shapes (:func:`shapes_key`) on which a guarded run passed, at most MAX_PROVEN."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: set[Hashable] = set()

    def add(self, key: Hashable, args: tuple) -> None:
        """Remember ``key`` (of ``args``) after a guarded run on ``args`` passed (plain
        ndarrays of numbers only)."""
        if key is not None and all(a.dtype.kind in _PLAIN_KINDS for a in args):
            if len(self.keys) >= MAX_PROVEN:
                self.keys.clear()
            self.keys.add(key)

    def __contains__(self, args: tuple) -> bool:
        return shapes_key(args) in self.keys
