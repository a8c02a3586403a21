"""What can be known about a graph before spawning anything: node params against each
node type's ``_configure`` signature and annotations, common value rules, a node type's
own ``check_config`` hook, and recording directories that already exist; then each
node's own ``configure`` and ``validate`` against the upstream rates (dryrun.py).
(Stream params are checked where the graph is read, by dataflow/graph/graphspec.py with the one
table of dataflow/streams/spec.py.)

Nothing is opened or imported here beyond the node classes themselves (a camera is not
opened, an LSL stream not resolved: such node types say ``dry_configure = False``), so
``acqflow run --check`` is safe to run on any graph file without ``imports:`` (see
docs/graphs.md).
"""
from __future__ import annotations

import collections.abc
import difflib
import inspect
import math
import os
import types
import typing
from typing import Any

from ..dataflow.graph.configsig import configure_signature
from ..dataflow.graph.graphspec import GraphSpec
from ..dataflow.paramcheck import positive_number
from ..dataflow.graph.registry import get_node_type
from ..dataflow.shortrepr import short_repr
from ..storage.target import recording_run
from .dryrun import dry_run

__all__ = ["check_graph", "check_node_params"]

# params that must be a finite number > 0 whatever the node
POSITIVE = {"sample_rate", "rate", "channels", "chunksize", "chunk", "nb_channel", "block_s",
            "block_bytes", "segment_bytes", "buffer_size", "queue_chunks", "queue_bytes"}


def check_graph(spec: GraphSpec) -> list[str]:
    """Every problem found in the nodes' params (of a graph whose stream params were
    checked when it was read: ``GraphSpec.from_dict``): first against each node type's
    signature and hook, then by configuring the nodes here (dryrun.py)."""
    problems: list[str] = []
    bad: set[str] = set()
    for name, ns in spec.nodes.items():
        if name in spec.unchecked:
            continue
        found = check_node_params(get_node_type(ns.type), ns.params)
        if found:
            bad.add(name)
            problems += [f"nodes.{name}.{p}" for p in found]
    return problems + dry_run(spec, skip=bad)


def check_node_params(cls: type, params: dict[str, Any]) -> list[str]:
    """Problems of ``params`` for node type ``cls`` (each 'params.NAME: what')."""
    problems: list[str] = []
    try:
        sig = configure_signature(cls)      # what configure() takes, forwarded hooks included
    except (TypeError, ValueError):
        return problems
    accepted = {n: p for n, p in sig.parameters.items() if n != "self"
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    open_ended = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    hints = {n: p.annotation for n, p in accepted.items()
             if not isinstance(p.annotation, str)}        # unresolved annotations: no type checks
    for key, value in params.items():
        if key not in accepted:
            if not open_ended:
                close = difflib.get_close_matches(str(key), accepted, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                problems.append(f"params: {cls.__name__} has no param {short_repr(key)} "
                                f"({hint}params: {', '.join(accepted) or 'none'})")
            continue
        problem = _value_problem(key, value, hints.get(key),
                                 key in getattr(cls, "infinite_params", ()))
        if problem:
            problems.append(f"params.{key}: {problem}")
    for key, p in accepted.items():
        if p.default is p.empty and key not in params:
            problems.append(f"params: {cls.__name__} needs {key!r}")
    if "dirname" in accepted and "mode" in accepted and params.get("dirname"):
        mode = params.get("mode", accepted["mode"].default)
        path = os.path.abspath(os.path.expanduser(str(params["dirname"])))
        if mode == "create" and os.path.exists(path) and \
                not (params.get("run") and recording_run(path) == params["run"]):   # continued
            shown = path if len(path) < 300 else short_repr(path)
            problems.append(f"params.dirname: {shown} exists (from an earlier run?); "
                            f"choose another dirname, or mode: overwrite | append")
    hook = getattr(cls, "check_config", None)
    if inspect.ismethod(hook):          # a classmethod: check_config(params) -> problems
        try:
            problems += list(hook(dict(params)))
        except (RecursionError, MemoryError) as exc:     # e.g. an expression too deep
            problems.append(f"params: {cls.__name__} could not be checked ({type(exc).__name__})")
    return problems


def _value_problem(key: str, value: Any, hint: Any, inf_ok: bool = False) -> str | None:
    if hint is not None and not _matches(value, hint):
        return f"{short_repr(value)} is not {_hint_name(hint)}"
    if isinstance(value, float) and math.isnan(value):
        return "NaN is not a value"
    if key in POSITIVE and value is not None:
        try:
            positive_number(key, value, inf_ok=inf_ok)
        except ValueError as exc:
            return str(exc)
    return None


def _matches(value: Any, hint: Any) -> bool:
    """True when ``value`` (as YAML gives it) can be what ``hint`` asks; unknown hints pass."""
    origin = typing.get_origin(hint)
    if hint is typing.Any or hint is inspect.Parameter.empty:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, h) for h in typing.get_args(hint))
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint is os.PathLike:
        return isinstance(value, str)
    target = origin or hint
    if target in (list, tuple, collections.abc.Sequence):
        return isinstance(value, (list, tuple))
    if target in (dict, collections.abc.Mapping):
        return isinstance(value, dict)
    if target is collections.abc.Callable:
        return callable(value)
    return True


def _hint_name(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_hint_name(h) for h in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if typing.get_origin(hint) is typing.Literal:
        return "one of " + ", ".join(short_repr(a) for a in typing.get_args(hint))
    names = {int: "an integer", float: "a number", str: "a string", bool: "true/false"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))

