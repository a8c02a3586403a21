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
only on connections marked ``feedback: true``).  The file is read with limits
(size, YAML aliases, no duplicate keys) and bad values are quoted truncated.

``imports:`` are Python modules: reading a graph that has them runs their code.
``load_graph(path, run_imports=False)`` (``acqflow run --check``) does not import
them; node types that only they could define are then listed in ``unchecked``.
"""
from __future__ import annotations

import graphlib
import importlib
from dataclasses import dataclass, field
from typing import Any

from ..errors import Error
from ..streams.inputcheck import check_input, check_spin
from ..paramcheck import refusal
from .registry import get_node_type
from ..shortrepr import short_repr
from ..streams.spec import normalize_params, param_problems

__all__ = ["GraphError", "GraphSpec", "NodeSpec", "ConnectionSpec", "load_graph", "read_yaml",
           "topological_order"]

_TOP_KEYS = {"imports", "hosts", "groups", "nodes", "connections"}
_NODE_KEYS = {"type", "group", "params", "outputs"}
_GROUP_KEYS = {"host", "qt", "restart"}
_CONNECTION_KEYS = {"from", "to", "params", "feedback", "spin"}
DEFAULT_GROUP = "main"
MAX_GRAPH_BYTES = 4 << 20       # a graph file is a few KB; refuse what no one writes by hand
MAX_YAML_ALIASES = 1000         # anchors/aliases are fine; a "billion laughs" bomb is not
MAX_YAML_VALUES = 1_000_000     # values once every alias is expanded


class GraphError(Error, ValueError):
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
    spin: float = 0.0          # the input's InputStream.spin (ms)


@dataclass
class GraphSpec:
    imports: list[str]
    hosts: dict[str, str]
    groups: dict[str, dict]
    nodes: dict[str, NodeSpec]
    connections: list[ConnectionSpec]
    unchecked: list[str] = field(default_factory=list)   # nodes whose type needs imports

    @classmethod
    def from_dict(cls, data: Any, source: str = "graph", run_imports: bool = True) -> "GraphSpec":
        """Validate ``data`` (as loaded from YAML); GraphError lists every problem.
        ``run_imports=False`` does not import the ``imports:`` modules (see above)."""
        problems: list[str] = []
        graph = _parse(data, problems, run_imports)
        if graph is not None:     # report port/stream problems alongside parse problems
            _check_streams(graph, problems)
            _check_cycles(graph, problems)
        if problems:
            raise GraphError(problems, source)
        assert graph is not None        # (_parse returns None only with a problem listed)
        return graph

    def order(self) -> list[str]:
        """Node names, sources before the nodes they feed (feedback links ignored)."""
        deps: dict[str, set] = {n: set() for n in self.nodes}
        for c in self.connections:
            if not c.feedback:
                deps[c.target[0]].add(c.source[0])
        return topological_order(deps)

    def output_params(self, node: str, output: str) -> dict:
        """Stream params the graph gives ``node.output`` (node outputs + connections)."""
        params = dict(self.nodes[node].outputs.get(output, {}))
        for c in self.connections:
            if c.source == (node, output):
                params.update(c.params)
        return params


def topological_order(deps: dict[str, set]) -> list[str]:
    """Names sources first, each layer sorted (graphlib.CycleError on a cycle)."""
    sorter = graphlib.TopologicalSorter(deps)
    sorter.prepare()
    done: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        done.extend(ready)
        sorter.done(*ready)
    return done


def load_graph(path: str, run_imports: bool = True) -> GraphSpec:
    """Read and validate a YAML graph file (UTF-8, at most MAX_GRAPH_BYTES, at most
    MAX_YAML_ALIASES aliases, no duplicate keys); GraphError names what is wrong."""
    with open(path, "rb") as f:
        raw = f.read(MAX_GRAPH_BYTES + 1)
    if len(raw) > MAX_GRAPH_BYTES:
        raise GraphError([f"the file is larger than {MAX_GRAPH_BYTES >> 20} MiB; "
                          "a graph file is a few KB of YAML"], path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GraphError([f"not UTF-8 text: byte {raw[exc.start]:#04x} at offset {exc.start} "
                          "(save the file as UTF-8)"], path) from None
    return GraphSpec.from_dict(read_yaml(text, path), source=path, run_imports=run_imports)


def read_yaml(text: str, source: str = "graph") -> Any:
    """``yaml.safe_load`` with limits: duplicate keys and more than MAX_YAML_ALIASES
    aliases are refused (GraphError), as is YAML that is not valid."""
    import yaml
    loader = _limited_loader(yaml)(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise GraphError([f"not valid YAML: {_yaml_problem(exc)}"], source) from None
    except RecursionError:
        raise GraphError(["not valid YAML: nested too deeply"], source) from None
    except GraphError as exc:
        raise GraphError(exc.problems, source) from None
    finally:
        loader.dispose()


def _yaml_problem(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    context = getattr(exc, "context", None)
    return f"{context + ': ' if context else ''}{problem}{where}"


def _limited_loader(yaml: Any) -> type:
    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)     # libyaml's parser when there

    class LimitedLoader(base):
        def get_single_data(self) -> Any:
            node = self.get_single_node()
            if node is None:
                return None
            _check_tree(yaml, node)
            return self.construct_document(node)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue          # the base class reports unhashable keys
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        f"in the mapping starting at line {node.start_mark.line + 1}", None,
                        f"duplicate key {short_repr(key)} (first at line {seen[key] + 1})",
                        key_node.start_mark)
                seen[key] = key_node.start_mark.line
            return super().construct_mapping(node, deep)

    return LimitedLoader


def _check_tree(yaml: Any, root: Any) -> None:
    """Refuse documents with more than MAX_YAML_ALIASES aliases or that expand to more
    than MAX_YAML_VALUES values (an alias is a node met again)."""
    weight: dict[int, int] = {}
    aliases = 0
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            children = _children(yaml, node)
            weight[id(node)] = 1 + sum(weight[id(c)] for c in children)
            if weight[id(node)] > MAX_YAML_VALUES:
                raise GraphError([f"not valid YAML: it expands to more than {MAX_YAML_VALUES} "
                                  f"values through aliases (a YAML bomb?) (line "
                                  f"{node.start_mark.line + 1})"])
            continue
        if id(node) in weight:
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise GraphError([f"not valid YAML: more than {MAX_YAML_ALIASES} aliases "
                                  f"(line {node.start_mark.line + 1})"])
            continue
        weight[id(node)] = 0       # visiting (a recursive alias adds nothing more)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(yaml, node))


def _children(yaml: Any, node: Any) -> list:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _unknown(where: str, mapping: dict, allowed: set, problems: list) -> None:
    for key in mapping:
        if key not in allowed:
            problems.append(f"{where}: unknown key {short_repr(key)} (expected: {', '.join(sorted(allowed))})")


def _mapping(value: Any, where: str, problems: list) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: expected a mapping, got {type(value).__name__} {short_repr(value)}")
        return {}
    return value


def _parse(data: Any, problems: list, run_imports: bool = True) -> GraphSpec | None:
    if not isinstance(data, dict):
        problems.append(refusal("the graph", "a mapping with 'nodes' and 'connections'", data))
        return None
    _unknown("graph", data, _TOP_KEYS, problems)
    imports = data.get("imports") or []
    if not isinstance(imports, list) or not all(isinstance(m, str) for m in imports):
        problems.append(f"imports: expected a list of module names, got {short_repr(imports)}")
        imports = []
    for module in imports if run_imports else ():
        try:
            importlib.import_module(module)
        except Exception as exc:
            problems.append(f"imports: cannot import {short_repr(module)}: {exc}")
    hosts = {str(k): v for k, v in _mapping(data.get("hosts"), "hosts", problems).items()}
    for name, address in hosts.items():
        if not isinstance(address, str) or not address.startswith(("tcp://", "ipc://")):
            problems.append(f"hosts.{name}: expected an address like tcp://10.0.0.2:5600, got {short_repr(address)}")
    groups = {}
    declared = _mapping(data.get("groups"), "groups", problems)
    for name, opts in declared.items():
        opts = _mapping(opts, f"groups.{name}", problems)
        _unknown(f"groups.{name}", opts, _GROUP_KEYS, problems)
        host = opts.get("host")
        if host not in (None, "localhost") and host not in hosts:
            known = ", ".join(hosts) or "none"
            problems.append(f"groups.{name}.host: unknown host {short_repr(host)} (hosts: {known})")
        groups[str(name)] = dict(opts)
    nodes, unchecked = {}, []
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
            if imports and not run_imports and isinstance(exc, KeyError):
                unchecked.append(str(name))      # may come from an import not run
            else:
                problems.append(f"{where}.type: {exc.args[0] if len(type_name) < 100 else short_repr(type_name)}")
                continue
        group = str(spec.get("group", DEFAULT_GROUP))
        if declared and "group" in spec and group not in declared:
            problems.append(f"{where}.group: unknown group {short_repr(group)} "
                            f"(groups: {', '.join(map(str, declared))})")
        groups.setdefault(group, {})
        outputs = {k: _mapping(v, f"{where}.outputs.{k}", problems)
                   for k, v in _mapping(spec.get("outputs"), f"{where}.outputs", problems).items()}
        nodes[str(name)] = NodeSpec(str(name), type_name, group,
                                    _mapping(spec.get("params"), f"{where}.params", problems), outputs)
    connections = []
    raw_conns = data.get("connections") or []
    if not isinstance(raw_conns, list):
        problems.append(f"connections: expected a list, got {short_repr(raw_conns)}")
        raw_conns = []
    for k, conn in enumerate(raw_conns):
        where = f"connections[{k}]"
        conn = _mapping(conn, where, problems)
        _unknown(where, conn, _CONNECTION_KEYS, problems)
        src, dst = (_port(conn.get(key), f"{where}.{key}", nodes, raw_nodes, problems) for key in ("from", "to"))
        try:
            spin = check_spin(conn.get("spin", 0.0))
        except ValueError as exc:
            problems.append(f"{where}.{exc}")
            spin = 0.0
        if src is not None and dst is not None:
            connections.append(ConnectionSpec(src, dst,
                                              _mapping(conn.get("params"), f"{where}.params", problems),
                                              bool(conn.get("feedback", False)), spin))
    return GraphSpec(imports, hosts, groups, nodes, connections, unchecked)


def _port(value: Any, where: str, nodes: dict, raw_nodes: dict, problems: list) -> tuple[str, str] | None:
    if not isinstance(value, str) or value.count(".") != 1:
        problems.append(f"{where}: expected 'node.port', got {short_repr(value)}")
        return None
    node, port = value.split(".")
    if node not in nodes:
        if node not in raw_nodes:
            problems.append(f"{where}: unknown node {short_repr(node)} (nodes: {', '.join(raw_nodes) or 'none'})")
        return None
    return node, port


def _ports(graph: GraphSpec, name: str, kind: str) -> dict | None:
    """Declared ports of a node, or None when it makes them at configure time
    (``_dynamic_ports = True``, or no port of that kind declared, e.g. a Recorder's
    inputs or a Player's outputs) or its type is unknown until ``imports:`` run."""
    if name in graph.unchecked:
        return None
    cls = get_node_type(graph.nodes[name].type)
    specs = getattr(cls, f"_{kind}_specs")
    if getattr(cls, "_dynamic_ports", False) or not specs:
        return None
    return specs


def _declared(graph: GraphSpec, name: str, outs: dict | None, out: str) -> dict:
    """An output's params known before configure(): its class's spec, plus what the node's
    params declare through the class's ``declared_outputs(params)`` hook (an LSLInlet's
    ``streamtype``: a stream's type is otherwise known once it is resolved)."""
    if outs is None:
        return {}
    declared = dict(outs.get(out, {}))
    hook = getattr(get_node_type(graph.nodes[name].type), "declared_outputs", None)
    if callable(hook):
        declared.update((hook(dict(graph.nodes[name].params)) or {}).get(out, {}))
    return declared


def _check_streams(graph: GraphSpec, problems: list) -> None:
    fed: dict[tuple, int] = {}
    given: dict[tuple, dict] = {}          # graph params of each output, from every connection
    for c in graph.connections:
        given.setdefault(c.source, dict(graph.nodes[c.source[0]].outputs.get(c.source[1], {})))
        given[c.source].update(c.params)
    for k, c in enumerate(graph.connections):
        (src, out), (dst, inp) = c.source, c.target
        outs = _ports(graph, src, "output")
        ins = _ports(graph, dst, "input")
        ok = True
        if outs is not None and out not in outs:
            problems.append(f"connections[{k}].from: {graph.nodes[src].type} node {short_repr(src)} has no output "
                            f"{short_repr(out)} (outputs: {', '.join(outs) or 'none'})")
            ok = False
        if ins is not None and inp not in ins:
            problems.append(f"connections[{k}].to: {graph.nodes[dst].type} node {short_repr(dst)} has no input "
                            f"{short_repr(inp)} (inputs: {', '.join(ins) or 'none'})")
            ok = False
        if c.target in fed:
            problems.append(f"connections[{k}].to: input {dst}.{inp} is already fed by "
                            f"connections[{fed[c.target]}]")
        fed.setdefault(c.target, k)
        if not ok:
            continue
        declared = _declared(graph, src, outs, out)
        params = {**declared, **given[(src, out)]}
        if "shape" not in params and params.get("transfermode") == "sharedmem":
            params["shape"] = (-1, 1)   # set by the node at configure time; checked then
        bad = param_problems(params)         # every bad value first, then what involves several
        if bad:
            problems += [f"stream {src}.{out}: {p}" for p in bad]
            continue
        try:
            offered = normalize_params(params)
        except (ValueError, TypeError) as exc:
            problems.append(f"stream {src}.{out}: {exc}")
            continue
        if ins is not None:
            # only what is known before configure() can be checked here
            known = {key: offered[key] for key in ("streamtype", "dtype", "shape", "transfermode")
                     if key in declared or key in given[(src, out)]}
            try:
                check_input(known, ins[inp], f"output {src}.{out}", f"input {dst}.{inp}")
            except ValueError as exc:
                problems.append(f"connections[{k}]: {exc}")
    for name, node in graph.nodes.items():
        for out, params in node.outputs.items():
            if (name, out) not in given:      # not connected: its values are still checked
                problems += [f"nodes.{name}.outputs.{out}: {p}" for p in param_problems(params)]
        ins = _ports(graph, name, "input")
        for inp in (ins or {}):
            if (name, inp) not in fed:
                problems.append(f"nodes.{name}: input {short_repr(inp)} is not connected")


def _check_cycles(graph: GraphSpec, problems: list) -> None:
    sorter = graphlib.TopologicalSorter({n: set() for n in graph.nodes})
    for c in graph.connections:
        if not c.feedback:
            sorter.add(c.target[0], c.source[0])
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = list(exc.args[1])
        text = " -> ".join(cycle) if len(cycle) <= 12 else \
            " -> ".join(cycle[:6] + [f"...({len(cycle) - 12} more)"] + cycle[-6:])
        problems.append(f"connections: cycle {text} (mark the connection that closes it with "
                        f"'feedback: true' if intended)")
