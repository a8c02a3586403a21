"""Graph files: a declarative acquisition graph, validated before anything starts.

```yaml
imports: [mylab.nodes]                     # optional: modules registering node types
hosts: {rig: tcp://10.0.0.2:5600}          # optional: host daemons by name
groups: {acq: {host: rig}, proc: {}}       # optional: one process per group
nodes:
  gen: {type: SyntheticSignal, group: acq, params: {channels: 16},
        outputs: {signals: {transfermode: sharedmem}}}
  filt: {type: SosFilter, group: proc, params: {btype: bandpass, freq: [1, 40]}}
connections:
  - {from: gen.signals, to: filt.input, params: {protocol: tcp}}
```

Every problem found is reported at once, each naming where it is (``nodes.filt.type``,
``connections[0].to``...): unknown node types, ports, groups or hosts, bad
stream params, incompatible dtype/shape, unconnected inputs, cycles (allowed
only on connections marked ``feedback: true``).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from .registry import get_node_type
from .spec import check_compatible, normalize_params

__all__ = ["GraphError", "GraphSpec", "NodeSpec", "ConnectionSpec", "load_graph"]

_TOP_KEYS = {"imports", "hosts", "groups", "nodes", "connections"}
_NODE_KEYS = {"type", "group", "params", "outputs"}
_GROUP_KEYS = {"host", "qt", "restart"}
_CONNECTION_KEYS = {"from", "to", "params", "feedback"}
DEFAULT_GROUP = "main"


class GraphError(ValueError):
    """A graph description is invalid; ``problems`` lists every issue found."""

    def __init__(self, problems: list[str], source: str = "graph"):
        self.problems = problems
        super().__init__(f"{source} is invalid:\n  - " + "\n  - ".join(problems))


@dataclass
class NodeSpec:
    name: str
    type: str
    group: str
    params: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)     # output name -> stream params


@dataclass
class ConnectionSpec:
    source: tuple[str, str]
    target: tuple[str, str]
    params: dict = field(default_factory=dict)
    feedback: bool = False


@dataclass
class GraphSpec:
    imports: list[str]
    hosts: dict[str, str]
    groups: dict[str, dict]
    nodes: dict[str, NodeSpec]
    connections: list[ConnectionSpec]

    @classmethod
    def from_dict(cls, data: Any, source: str = "graph") -> "GraphSpec":
        """Validate ``data`` (as loaded from YAML); GraphError lists every problem."""
        problems: list[str] = []
        graph = _parse(data, problems)
        if graph is not None:     # report port/stream problems alongside parse problems
            _check_streams(graph, problems)
            _check_cycles(graph, problems)
        if problems:
            raise GraphError(problems, source)
        return graph

    def order(self) -> list[str]:
        """Node names, sources before the nodes they feed (feedback links ignored)."""
        deps = {n: set() for n in self.nodes}
        for c in self.connections:
            if not c.feedback:
                deps[c.target[0]].add(c.source[0])
        done: list[str] = []
        while len(done) < len(deps):
            ready = [n for n in deps if n not in done and deps[n] <= set(done)]
            done.extend(sorted(ready))
        return done

    def output_params(self, node: str, output: str) -> dict:
        """Stream params the graph gives ``node.output`` (node outputs + connections)."""
        params = dict(self.nodes[node].outputs.get(output, {}))
        for c in self.connections:
            if c.source == (node, output):
                params.update(c.params)
        return params


def load_graph(path: str) -> GraphSpec:
    """Read and validate a YAML graph file."""
    import yaml
    with open(path) as f:
        try:
            data = yaml.safe_load(f)
        except yaml.YAMLError as exc:
            raise GraphError([f"not valid YAML: {exc}"], path) from None
    return GraphSpec.from_dict(data, source=path)


def _unknown(where: str, mapping: dict, allowed: set, problems: list) -> None:
    for key in mapping:
        if key not in allowed:
            problems.append(f"{where}: unknown key {key!r} (expected: {', '.join(sorted(allowed))})")


def _mapping(value: Any, where: str, problems: list) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: expected a mapping, got {type(value).__name__} {value!r}")
        return {}
    return value


def _parse(data: Any, problems: list) -> GraphSpec | None:
    if not isinstance(data, dict):
        problems.append(f"the graph must be a mapping with 'nodes' and 'connections', got {data!r}")
        return None
    _unknown("graph", data, _TOP_KEYS, problems)
    imports = data.get("imports") or []
    if not isinstance(imports, list) or not all(isinstance(m, str) for m in imports):
        problems.append(f"imports: expected a list of module names, got {imports!r}")
        imports = []
    for module in imports:
        try:
            importlib.import_module(module)
        except Exception as exc:
            problems.append(f"imports: cannot import {module!r}: {exc}")
    hosts = {str(k): v for k, v in _mapping(data.get("hosts"), "hosts", problems).items()}
    for name, address in hosts.items():
        if not isinstance(address, str) or not address.startswith(("tcp://", "ipc://")):
            problems.append(f"hosts.{name}: expected an address like tcp://10.0.0.2:5600, got {address!r}")
    groups = {}
    for name, opts in _mapping(data.get("groups"), "groups", problems).items():
        opts = _mapping(opts, f"groups.{name}", problems)
        _unknown(f"groups.{name}", opts, _GROUP_KEYS, problems)
        host = opts.get("host")
        if host not in (None, "localhost") and host not in hosts:
            problems.append(f"groups.{name}.host: unknown host {host!r} (hosts: {', '.join(hosts) or 'none'})")
        groups[str(name)] = dict(opts)
    nodes = {}
    raw_nodes = _mapping(data.get("nodes"), "nodes", problems)
    if not raw_nodes:
        problems.append("nodes: the graph has no nodes")
    for name, spec in raw_nodes.items():
        where = f"nodes.{name}"
        spec = _mapping(spec, where, problems)
        _unknown(where, spec, _NODE_KEYS, problems)
        type_name = spec.get("type")
        if not isinstance(type_name, str):
            problems.append(f"{where}.type: missing (the registered node type, e.g. SyntheticSignal)")
            continue
        try:
            get_node_type(type_name)
        except (KeyError, ImportError) as exc:
            problems.append(f"{where}.type: {exc.args[0]}")
            continue
        group = str(spec.get("group", DEFAULT_GROUP))
        groups.setdefault(group, {})
        outputs = {k: _mapping(v, f"{where}.outputs.{k}", problems)
                   for k, v in _mapping(spec.get("outputs"), f"{where}.outputs", problems).items()}
        nodes[str(name)] = NodeSpec(str(name), type_name, group,
                                    _mapping(spec.get("params"), f"{where}.params", problems), outputs)
    connections = []
    raw_conns = data.get("connections") or []
    if not isinstance(raw_conns, list):
        problems.append(f"connections: expected a list, got {raw_conns!r}")
        raw_conns = []
    for k, conn in enumerate(raw_conns):
        where = f"connections[{k}]"
        conn = _mapping(conn, where, problems)
        _unknown(where, conn, _CONNECTION_KEYS, problems)
        ends = [_port(conn.get(key), f"{where}.{key}", nodes, raw_nodes, problems) for key in ("from", "to")]
        if None not in ends:
            connections.append(ConnectionSpec(ends[0], ends[1],
                                              _mapping(conn.get("params"), f"{where}.params", problems),
                                              bool(conn.get("feedback", False))))
    return GraphSpec(imports, hosts, groups, nodes, connections)


def _port(value: Any, where: str, nodes: dict, raw_nodes: dict, problems: list):
    if not isinstance(value, str) or value.count(".") != 1:
        problems.append(f"{where}: expected 'node.port', got {value!r}")
        return None
    node, port = value.split(".")
    if node not in nodes:
        if node not in raw_nodes:
            problems.append(f"{where}: unknown node {node!r} (nodes: {', '.join(raw_nodes) or 'none'})")
        return None
    return node, port


def _ports(type_name: str, kind: str) -> dict | None:
    """Declared ports of a node type, or None when it makes them at configure time
    (``_dynamic_ports = True``, or no port of that kind declared, e.g. a Recorder's
    inputs or a Player's outputs)."""
    cls = get_node_type(type_name)
    specs = getattr(cls, f"_{kind}_specs")
    if getattr(cls, "_dynamic_ports", False) or not specs:
        return None
    return specs


def _check_streams(graph: GraphSpec, problems: list) -> None:
    fed: dict[tuple, int] = {}
    for k, c in enumerate(graph.connections):
        (src, out), (dst, inp) = c.source, c.target
        outs = _ports(graph.nodes[src].type, "output")
        ins = _ports(graph.nodes[dst].type, "input")
        ok = True
        if outs is not None and out not in outs:
            problems.append(f"connections[{k}].from: {graph.nodes[src].type} node {src!r} has no output "
                            f"{out!r} (outputs: {', '.join(outs) or 'none'})")
            ok = False
        if ins is not None and inp not in ins:
            problems.append(f"connections[{k}].to: {graph.nodes[dst].type} node {dst!r} has no input "
                            f"{inp!r} (inputs: {', '.join(ins) or 'none'})")
            ok = False
        if c.target in fed:
            problems.append(f"connections[{k}].to: input {dst}.{inp} is already fed by "
                            f"connections[{fed[c.target]}]")
        fed.setdefault(c.target, k)
        if not ok:
            continue
        declared = dict(outs.get(out, {})) if outs is not None else {}
        params = {**declared, **graph.output_params(src, out)}
        if "shape" not in params and params.get("transfermode") == "sharedmem":
            params["shape"] = (-1, 1)   # set by the node at configure time; checked then
        try:
            offered = normalize_params(params)
        except (ValueError, TypeError) as exc:
            problems.append(f"stream {src}.{out}: {exc}")
            continue
        if ins is not None:
            # only what is known before configure() can be checked here
            known = {key: offered[key] for key in ("streamtype", "dtype", "shape", "transfermode")
                     if key in declared or key in graph.output_params(src, out)}
            try:
                check_compatible(known, ins[inp], f"output {src}.{out}", f"input {dst}.{inp}")
            except ValueError as exc:
                problems.append(f"connections[{k}]: {exc}")
    for name, node in graph.nodes.items():
        ins = _ports(node.type, "input")
        for inp in (ins or {}):
            if (name, inp) not in fed:
                problems.append(f"nodes.{name}: input {inp!r} is not connected")


def _check_cycles(graph: GraphSpec, problems: list) -> None:
    edges: dict[str, set] = {n: set() for n in graph.nodes}
    for c in graph.connections:
        if not c.feedback:
            edges[c.source[0]].add(c.target[0])
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        state[n] = 1
        for m in sorted(edges[n]):
            if state.get(m) == 1:
                cycle = path[path.index(m):] + [m]
                problems.append(f"connections: cycle {' -> '.join(cycle)} (mark the connection that "
                                f"closes it with 'feedback: true' if intended)")
            elif m not in state:
                visit(m, path + [m])
        state[n] = 2

    for n in sorted(graph.nodes):
        if n not in state:
            visit(n, [n])
