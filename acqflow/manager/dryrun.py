"""``acqflow run --check``'s second pass: each node configured in this process, by its own
``configure`` (the code a run calls), with nothing opened, and the stream params it
declares carried downstream, so that what depends on an upstream rate is checked too.

A node type whose ``configure`` touches a device, the network or a file says so with
``dry_configure = False`` and is skipped (its params are still checked against its
signature by check.py); so is everything downstream of it whose input params are not
known.  Nodes built here never initialize: no socket, thread or file is made.
"""
from __future__ import annotations

from typing import Any

from ..dataflow.graph.graphspec import GraphSpec
from ..dataflow.graph.node import Node
from ..dataflow.paramcheck import did_you_mean
from ..dataflow.graph.registry import get_node_type
from ..dataflow.shortrepr import short_repr

__all__ = ["dry_run"]

# stream params a node's output spec may declare, carried to the nodes it feeds
_CARRIED = ("streamtype", "dtype", "shape", "sample_rate", "channel_info")


def dry_run(spec: GraphSpec, skip: set[str]) -> list[str]:
    """Problems found by configuring each node of ``spec`` but those in ``skip`` (whose
    params already have problems), checking the ports they made and the configured
    params against the input params that reach them."""
    problems: list[str] = []
    nodes: dict[str, Node] = {}
    for name in spec.order():
        if name in skip or name in spec.unchecked:
            continue
        cls = get_node_type(spec.nodes[name].type)
        if not getattr(cls, "dry_configure", True):
            continue
        try:
            node = cls(name=name)
            node.configure(**spec.nodes[name].params)
        except Exception as exc:       # noqa: BLE001 - whatever configure refuses is a problem
            problems.append(f"nodes.{name}: {_one_line(exc, name)}")
            continue
        nodes[name] = node
    problems += _port_problems(spec, nodes)
    if not problems:
        problems += _rate_problems(spec, nodes)
    return problems


def _one_line(exc: BaseException, name: str) -> str:
    """The first line of ``exc``, without the node name it may start with."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    for prefix in (f"{name}: ", f"node {name!r}: "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if not isinstance(exc, (ValueError, TypeError)):
        text = f"{type(exc).__name__}: {text}"
    return text[:300]


def _port_problems(spec: GraphSpec, nodes: dict[str, Node]) -> list[str]:
    """Connections to ports a configured node did not make (a Recorder's ``streams``),
    and ports it made that nothing feeds."""
    problems = []
    fed = {c.target for c in spec.connections}
    for k, c in enumerate(spec.connections):
        for end, kind, (node, port) in (("from", "output", c.source), ("to", "input", c.target)):
            made = getattr(nodes.get(node), f"{kind}s", None)
            if made is not None and port not in made:
                problems.append(f"connections[{k}].{end}: {spec.nodes[node].type} node {short_repr(node)} "
                                f"has no {kind} {short_repr(port)}{did_you_mean(port, made)} "
                                f"({kind}s: {', '.join(made) or 'none'})")
    for node_name, made_node in nodes.items():
        for inp in made_node.inputs:
            if (node_name, inp) not in fed:
                problems.append(f"nodes.{node_name}: input {short_repr(inp)} is not connected")
    return problems


def _rate_problems(spec: GraphSpec, nodes: dict[str, Node]) -> list[str]:
    """Each configured node's ``validate`` against the input params that reach it, where
    they are known: a source declares its output params at configure, a processing node
    derives its output's (``output_params``)."""
    problems: list[str] = []
    known: dict[tuple[str, str], dict] = {}
    feeds = {c.target: c.source for c in spec.connections if not c.feedback}
    for name in spec.order():
        node = nodes.get(name)
        if node is None:
            continue
        inputs = {inp: known.get(feeds.get((name, inp), ("", ""))) for inp in node.inputs}
        for inp, params in inputs.items():
            if params is None:
                continue
            source = "{}.{}".format(*feeds[(name, inp)])
            try:
                _validate(node, params)
            except ValueError as exc:
                which = "input" if inp == "input" else f"input {inp}"
                problems.append(f"nodes.{name}: {_one_line(exc, name)} ({which} from {source} "
                                f"at {params['sample_rate']:g} Hz)")
                inputs[inp] = None
        for out, stream in node.outputs.items():
            params = _declared(stream.spec)
            derive = getattr(node, "output_params", None)
            if inputs and list(inputs) == ["input"] and callable(derive):
                if inputs["input"] is None:
                    continue               # not known: nor is what follows from it
                try:
                    params = {**params, **_declared(derive(inputs["input"]))}
                except Exception:          # noqa: BLE001 - not derivable statically: not checked
                    continue
            elif inputs and not params.get("sample_rate"):
                continue
            if params.get("sample_rate"):
                known[(name, out)] = params
    return problems


def _validate(node: Node, params: dict) -> None:
    """The node's own check of its params against input ``params`` (ValueError)."""
    validate = getattr(node, "validate", None)
    if callable(validate):
        try:
            validate(params)
        except (KeyError, TypeError, IndexError):
            pass                           # needs a param not known statically


def _declared(params: Any) -> dict:
    return {k: params[k] for k in _CARRIED if isinstance(params, dict) and params.get(k) is not None}
