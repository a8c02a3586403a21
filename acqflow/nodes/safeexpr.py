"""A restricted evaluator of array expressions of ``x`` (the Expression node's language).

An expression is parsed with :mod:`ast` and every node is checked against a whitelist
before anything runs: numbers, the name ``x`` (and ``pi``, ``e``), arithmetic,
comparisons, ``&``/``|``/``~``, indexing, and calls of numpy functions from a fixed
table (``np.abs(x)`` or ``abs(x)``).  There is no attribute access other than
``np.<name in the table>``, no strings, no dunder, no builtins:
``().__class__.__base__.__subclasses__()`` is refused at parse time, not evaluated.

Sizes stay bounded: an expression has at most ``MAX_CHARS`` characters, ``MAX_NODES``
syntax nodes and ``MAX_DEPTH`` levels (so neither compiling nor evaluating can recurse
without end); a list or tuple is never an operand (no ``[0] * 9000000000``); integer
constants fit in 64 bits and integer powers compute in floats (no ``10 ** 10 ** 10``
on Python ints); the parts that do not depend on ``x`` are evaluated once at compile
time, so an overflow or division by zero there is refused before running.  At run time
every operation that can grow an array (broadcasting, indexing, calls, stacking a list)
is checked *before* it allocates: no intermediate may hold more than ``GROWTH`` times
the input's values (or ``FLOOR`` values for small inputs), see :class:`_Guard`.  When
the expression's shapes follow from its input's alone, an input shape and dtype on which
every check passed once runs without the checks after (:mod:`.safeexpr_fast`); any other
shape, such as a longer chunk, is checked again.
"""
from __future__ import annotations

import ast
import math
import operator
import warnings
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from ..dataflow.paramcheck import must_be
from ..dataflow.shortrepr import short_repr
from ..errors import Error
from .safeexpr_fast import ProvenShapes, shapes_key, static_shapes, unguarded

__all__ = ["compile_expression", "ExpressionError", "FUNCTIONS", "MAX_CHARS", "MAX_NODES",
           "MAX_DEPTH", "GROWTH", "FLOOR"]

FUNCTIONS = tuple(sorted({
    "abs", "absolute", "sqrt", "square", "cbrt", "exp", "exp2", "expm1", "log", "log2", "log10",
    "log1p", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh",
    "hypot", "degrees", "radians", "floor", "ceil", "rint", "round", "trunc", "sign", "power",
    "minimum", "maximum", "fmin", "fmax", "clip", "where", "mod", "fmod", "real", "imag", "angle",
    "conj", "isnan", "isfinite", "nan_to_num", "mean", "sum", "std", "var", "median", "amin",
    "amax", "min", "max", "cumsum", "prod", "dot", "logical_and", "logical_or", "logical_not",
}))
KEYWORDS = ("axis", "keepdims", "decimals", "nan", "posinf", "neginf")
MAX_CHARS = 10_000      # characters of an expression
MAX_NODES = 2_000       # syntax-tree nodes (operators and contexts included)
MAX_DEPTH = 100         # levels of nesting: x + x + ... + x is one level per '+'
GROWTH = 16             # an intermediate holds at most GROWTH x the input's values ...
FLOOR = 65_536          # ... or FLOOR values, whichever is larger
INT_LIMIT = 2 ** 63     # Python ints stay in (-2**63, 2**63): numpy never makes object arrays

_NAMES = {"pi": np.pi, "e": np.e, "inf": np.inf, "nan": np.nan}
_OPS: dict[type[ast.AST], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.BitAnd: operator.and_, ast.BitOr: operator.or_,
    ast.BitXor: operator.xor, ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^",
           ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
           ast.UAdd: "unary +", ast.USub: "unary -", ast.Invert: "~"}
_OP_NAMES = {cls: f"_op_{cls.__name__}" for cls in _OPS}
_OP_SYMBOL = {_OPS[cls]: _SYMBOL[cls] for cls in _OPS}
_UNARY = (ast.UAdd, ast.USub, ast.Invert)
_SEQUENCES = (ast.List, ast.Tuple)
# most positional arguments per function: past them numpy takes ``out`` (or ``copy``,
# ``overwrite_input``), which would write into the input chunk
_NONUFUNC_ARGS = {"round": 2, "clip": 3, "where": 3, "real": 1, "imag": 1, "angle": 2,
                  "nan_to_num": 1, "dot": 2}
_EXACT_ARGS = {"where": 3, "dot": 2}     # np.where(c) gives a tuple of index arrays


def _max_args(name: str) -> int:
    func = getattr(np, name)
    return func.nin if isinstance(func, np.ufunc) else _NONUFUNC_ARGS.get(name, 2)


class ExpressionError(Error, ValueError):
    """The expression is not valid Python, leaves the whitelist or its size bounds."""


def _np_namespace() -> SimpleNamespace:
    return SimpleNamespace(**{name: getattr(np, name) for name in FUNCTIONS if hasattr(np, name)})


class _Checker(ast.NodeVisitor):
    """Refuses what is not whitelisted (recursion bounded by the MAX_DEPTH check before)."""

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
        if type(node.value) is int and not -INT_LIMIT < node.value < INT_LIMIT:
            raise ExpressionError(f"the integer {short_repr(node.value)} is too large (at most "
                                  f"2**63 - 1; write a float such as 1e30)")

    def visit_Name(self, node):
        if node.id not in self.variables and node.id not in _NAMES:
            self.refuse(node, f"the name {short_repr(node.id)}")

    def operands(self, node: ast.AST, op: ast.AST, *values: ast.AST) -> None:
        for value in values:
            if isinstance(value, _SEQUENCES):
                raise ExpressionError(
                    f"a list or tuple as an operand of {_SYMBOL.get(type(op), type(op).__name__)} "
                    f"({short_repr(ast.unparse(node))}) is not allowed: no sequence repetition "
                    f"or arithmetic (pass the list to a function, e.g. np.sum([...]))")
        for value in values:
            self.visit(value)

    def visit_BinOp(self, node):
        if type(node.op) not in _OPS:
            self.refuse(node, type(node.op).__name__)
        self.operands(node, node.op, node.left, node.right)

    def visit_UnaryOp(self, node):
        if not isinstance(node.op, _UNARY):
            self.refuse(node, type(node.op).__name__)
        self.operands(node, node.op, node.operand)

    def visit_Compare(self, node):
        if not all(type(op) in _OPS for op in node.ops):
            self.refuse(node, "'in' / 'is'")
        if len(node.ops) > 1:
            raise ExpressionError(f"the chained comparison {short_repr(ast.unparse(node))} is not "
                                  f"allowed: write (a < b) & (b < c)")
        self.operands(node, node.ops[0], node.left, *node.comparators)

    def visit_Subscript(self, node):
        if isinstance(node.value, _SEQUENCES):
            raise ExpressionError(f"indexing a list or tuple ({short_repr(ast.unparse(node))}) "
                                  f"is not allowed")
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
            name = func.attr
        elif isinstance(func, ast.Name) and func.id in FUNCTIONS:
            name = func.id
        else:
            self.refuse(node, f"calling {short_repr(ast.unparse(func))} (functions: np.abs, "
                        f"np.sqrt, np.where... see acqflow.nodes.safeexpr.FUNCTIONS)")
        n, most = len(node.args), _max_args(name)
        if n > most or n < _EXACT_ARGS.get(name, 1):
            wanted = _EXACT_ARGS.get(name) or (f"1 to {most}" if most > 1 else "1")
            raise ExpressionError(f"np.{name} with {n} positional arguments is not allowed "
                                  f"(it takes {wanted}; numpy's 'out' is not allowed)")
        for arg in node.args:
            self.visit(arg)
        for kw in node.keywords:
            if kw.arg not in KEYWORDS:
                self.refuse(kw, f"the keyword {short_repr(kw.arg)}")
            self.visit(kw.value)

    def visit_Attribute(self, node):
        self.refuse(node, f"attribute access ({short_repr(ast.unparse(node))})")


def _measure(tree: ast.AST) -> None:
    """Refuse a tree of more than MAX_NODES nodes or MAX_DEPTH levels (iteratively: a
    deep tree must not recurse here either)."""
    stack, count = [(tree, 1)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise ExpressionError(f"is nested more than {MAX_DEPTH} levels deep (each operator "
                                  f"of x + x + ... is a level; np.sum of a list is flat)")
        if count > MAX_NODES:
            raise ExpressionError(f"has more than {MAX_NODES} syntax nodes")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


class _Guarded(ast.NodeTransformer):
    """Rewrites each operation that can allocate into a call of the run-time guard ``_g``
    (:class:`_Guard`): ``a op b`` -> ``_g.binop(_op_X, a, b)``, ``f(...)`` ->
    ``_g.call(f, ...)``, ``v[i]`` -> ``_g.index(v, i)``."""

    @staticmethod
    def _guard(method: str, args: list, keywords: list | None = None) -> ast.Call:
        func = ast.Attribute(ast.Name("_g", ast.Load()), method, ast.Load())
        return ast.Call(func, args, keywords or [])

    def visit_BinOp(self, node):
        self.generic_visit(node)
        return self._guard("binop", [ast.Name(_OP_NAMES[type(node.op)], ast.Load()),
                                     node.left, node.right])

    def visit_Compare(self, node):
        self.generic_visit(node)
        return self._guard("binop", [ast.Name(_OP_NAMES[type(node.ops[0])], ast.Load()),
                                     node.left, node.comparators[0]])

    def visit_Call(self, node):
        self.generic_visit(node)
        return self._guard("call", [node.func, *node.args], node.keywords)

    def visit_Subscript(self, node):
        self.generic_visit(node)
        return self._guard("index", [node.value, node.slice])

    def visit_Slice(self, node):
        self.generic_visit(node)
        parts = [p if p is not None else ast.Constant(None) for p in (node.lower, node.upper, node.step)]
        return ast.Call(ast.Name("_slice", ast.Load()), parts, [])


def _shape(value: Any) -> tuple[int, ...]:
    """The shape numpy would give ``value``, without converting it (a list is not copied)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.shape
    if isinstance(value, (list, tuple)):
        return (len(value),) + max((_shape(v) for v in value), key=math.prod, default=())
    return ()


def _broadcast(shapes: list | tuple) -> tuple[int, ...]:
    """The broadcast of ``shapes``; () when they do not broadcast (numpy then raises its
    own error for the operation)."""
    shapes = [s for s in shapes if s]
    if all(s == shapes[0] for s in shapes[1:]):
        return shapes[0] if shapes else ()
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return ()


def _is_mask(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.dtype == np.bool_
    if isinstance(value, (list, tuple)):
        return len(value) > 0 and all(map(_is_mask, value))
    return type(value) is bool or isinstance(value, np.bool_)


class _Guard:
    """Checks the size of what each operation would allocate before it runs."""

    __slots__ = ("limit",)

    def __init__(self, limit: int):
        self.limit = limit

    def check(self, size: int, what: Callable[[], str]) -> None:
        if size > self.limit:
            raise ExpressionError(f"{what()} would hold {size} values (at most {self.limit}: "
                                  f"{GROWTH} x the input's, or {FLOOR})")

    def binop(self, op: Callable, a: Any, b: Any) -> Any:
        if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
            raise ExpressionError(f"{_OP_SYMBOL[op]} on a list or tuple (sequence repetition) "
                                  f"is not allowed")
        if type(a) in (int, bool) and type(b) in (int, bool):
            out = op(float(a) if op is operator.pow else a, b)   # 9 ** 9 ** 9 overflows
            if type(out) is int and not -INT_LIMIT < out < INT_LIMIT:
                raise ExpressionError(f"the integer result of {_OP_SYMBOL[op]} exceeds 64 bits "
                                      f"(write a float such as 1e30)")
            return out
        sa, sb = _shape(a), _shape(b)
        if sa != sb:
            shape = _broadcast((sa, sb))
            self.check(math.prod(shape), lambda: f"{_OP_SYMBOL[op]} of shapes {sa} and {sb}")
        return op(a, b)

    def call(self, func: Callable, /, *args: Any, **kwargs: Any) -> Any:
        shapes = [_shape(a) for a in (*args, *kwargs.values())]
        for shape in shapes:                             # a list argument becomes an array
            self.check(math.prod(shape), lambda: f"an argument of np.{func.__name__}")
        shapes = shapes[:len(args)]
        if func is np.dot and all(shapes):
            sa, sb = shapes
            shape = sa[:-1] + sb[:-2] + sb[-1:] if len(sb) > 1 else sa[:-1]
        else:
            shape = _broadcast(shapes)
        self.check(math.prod(shape), lambda: f"np.{func.__name__} of shapes {tuple(shapes)}")
        out = func(*args, **kwargs)
        self.check(math.prod(_shape(out)), lambda: f"the result of np.{func.__name__}")
        return out

    def index(self, value: Any, index: Any) -> Any:
        shape = _shape(value)
        size, axis = math.prod(shape), 0
        for part in index if isinstance(index, tuple) else (index,):
            if isinstance(part, (list, tuple, np.ndarray)):
                part_shape = _shape(part)
                self.check(math.prod(part_shape), lambda: "an index")
                if _is_mask(part):
                    axis += len(part_shape)
                    continue
                dim = shape[axis] if axis < len(shape) else 1
                size = size // dim * math.prod(part_shape) if dim else 0
            axis += 1
        self.check(size, lambda: f"indexing an array of shape {shape}")
        return value[index]


def _constant_parts(tree: ast.Expression, variables: tuple[str, ...]) -> list[ast.expr]:
    """The largest sub-expressions that do not use ``variables`` and compute something."""
    found, stack = [], [tree.body]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name | ast.Constant):
            continue
        if not any(isinstance(n, ast.Name) and n.id in variables for n in ast.walk(node)):
            if not isinstance(node, (*_SEQUENCES, ast.Slice)):
                found.append(node)
                continue
        for child in ast.iter_child_nodes(node):
            child = child.value if isinstance(child, ast.keyword) else child
            if isinstance(child, ast.expr):
                stack.append(child)
    return found


def _compile(text: str, scope: dict) -> Callable[[dict], Any]:
    """``text`` (already checked) with its operations guarded, as a function of the locals."""
    guarded = ast.fix_missing_locations(_Guarded().visit(ast.parse(text, mode="eval")))
    code = compile(guarded, "<expression>", "eval")
    return lambda local: eval(code, scope, local)   # noqa: S307 - whitelisted, guarded AST


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200] if text else ''}".rstrip(": ")


def compile_expression(expr: Any, variables: tuple[str, ...] = ("x",), *,
                       fast: bool = True) -> Callable[..., Any]:
    """A function of ``variables`` evaluating ``expr``; ExpressionError when ``expr`` is
    not a valid expression or leaves the whitelist or the size bounds (nothing of it that
    depends on the variables has run then).  The function returns an array and raises
    only ExpressionError.  With ``fast`` an input shape on which the checks passed once
    skips them after (:mod:`acqflow.nodes.safeexpr_fast`); without, every call checks."""
    if not isinstance(expr, str):
        must_be("expr", "a string expression of x", expr, ExpressionError)
    if len(expr) > MAX_CHARS:
        raise ExpressionError(f"expr is {len(expr)} characters long (at most {MAX_CHARS})")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"expr {short_repr(expr)} is not a valid expression: {exc.msg}") from None
    except ValueError as exc:                      # e.g. a null byte
        raise ExpressionError(f"expr {short_repr(expr)} is not a valid expression: {exc}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"expr {short_repr(expr)} is nested more than {MAX_DEPTH} "
                              f"levels deep") from None
    scope = {"__builtins__": {}, "np": _np_namespace(), "_slice": slice, **_NAMES,
             **{name: getattr(np, name) for name in FUNCTIONS if hasattr(np, name)},
             **{name: _OPS[cls] for cls, name in _OP_NAMES.items()}}
    try:
        _measure(tree)
        _Checker(variables).visit(tree)
        for part in [ast.unparse(p) for p in _constant_parts(tree, variables)]:
            try:                            # evaluated once, with the small limit
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    _compile(part, scope)({"_g": _Guard(FLOOR)})
            except Exception as exc:        # noqa: BLE001 - any failure refuses the expression
                raise ExpressionError(f"{short_repr(part)} fails ({_one_line(exc)})") from None
        run = _compile(expr.strip(), scope)
        plain = unguarded(expr.strip(), variables, scope) if fast and static_shapes(tree, variables) else None
    except ExpressionError as exc:
        raise ExpressionError(f"expr {short_repr(expr)}: {exc}") from None
    except (RecursionError, MemoryError) as exc:
        raise ExpressionError(f"expr {short_repr(expr)}: {_one_line(exc)}") from None

    return _Evaluator(expr, variables, run, plain)


class _Evaluator:
    """``expr`` as a function of its variables: guarded, or plain on proven input shapes."""

    __slots__ = ("expr", "variables", "run", "plain", "proven")

    def __init__(self, expr: str, variables: tuple[str, ...], run: Callable[[dict], Any],
                 plain: Callable[..., Any] | None):
        self.expr, self.variables, self.run, self.plain = expr, variables, run, plain
        self.proven = ProvenShapes()

    def __call__(self, *args: Any) -> Any:
        try:
            plain = self.plain
            key = shapes_key(args) if plain is not None else None
            if key in self.proven.keys and plain is not None:
                return np.asarray(plain(*args))  # these shapes passed every check before
            size = sum(math.prod(_shape(a)) for a in args)
            guard = _Guard(max(GROWTH * size, FLOOR))
            out = self.run(dict(zip(self.variables, args), _g=guard))
            guard.check(math.prod(_shape(out)), lambda: "the result")   # e.g. a list of x's
            out = np.asarray(out)
            if plain is not None and len(args) == len(self.variables):
                self.proven.add(key, args)       # (only once everything passed)
            return out
        except ExpressionError as exc:
            raise ExpressionError(f"expr {short_repr(self.expr)}: {exc}") from None
        except Exception as exc:        # noqa: BLE001 - numpy's errors, MemoryError, ...
            shapes = ", ".join(str(_shape(a)) for a in args)
            raise ExpressionError(f"expr {short_repr(self.expr)} failed on an input of shape "
                                  f"{shapes}: {_one_line(exc)}") from None
