"""Build a validated GraphSpec into running node groups, placed on their hosts.

Placement rules for a stream (see docs/multi-host.md):

* no ``protocol`` given: ``inproc`` when every consumer shares the producer's
  process, ``ipc`` (this user's private 0700 directory) when every consumer is on
  the producer's machine, else ``tcp``; ``inproc`` asked across processes becomes
  ``ipc`` (same machine) or ``tcp``; ``ipc`` asked across machines becomes ``tcp``.
  A host whose daemon listens on ``ipc://`` is this machine (and this user);
* a tcp output with a consumer on another machine binds an interface that machine
  can reach (the producer host's daemon address, or the local address routing to
  the consumer's host), not 127.0.0.1 (streams off loopback are CurveZMQ-encrypted
  unless ``insecure: true``, see docs/security.md);
* ``transfermode='sharedmem'`` is probed: every consumer's process attaches the
  segment and checks its nonce; if any cannot, the output falls back to
  ``plaindata`` with a warning.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import socket
from typing import Any, Callable

from ..dataflow.graph.graphspec import ConnectionSpec, GraphSpec
from ..dataflow.graph.registry import get_node_type
from ..errors import Error
from ..rpc.errors import RemoteCallError
from ..rpc.security import is_loopback
from .manager import Manager

__all__ = ["build_graph", "GraphBuildError", "reachable_interface"]

log = logging.getLogger(__name__)


class GraphBuildError(Error, RuntimeError):
    """A node or stream of a graph could not be set up; names which and why."""


def _step(what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except Exception as exc:
        # one line: a remote error's type and message (its traceback stays in __cause__)
        text = (f"{exc.remote_type}: {exc.remote_message}" if isinstance(exc, RemoteCallError)
                else str(exc) or type(exc).__name__)
        lines = text.strip().splitlines() or [type(exc).__name__]
        raise GraphBuildError(f"{what}: {lines[0][:300]}") from exc


def _connect(manager: Manager, c: ConnectionSpec) -> None:
    """Connect with the output's params fetched here: the input's process may not be
    able to reach the output's process over RPC (another host, other Curve keys)."""
    (src, out), (dst, inp) = c.source, c.target
    params = _step(f"reading the params of {src}.{out}", manager.output_params, src, out)
    target = manager.node(dst).inputs[inp]
    if c.spin:
        _step(f"setting spin={c.spin:g} on {dst}.{inp}", setattr, target, "spin", c.spin)
    _step(f"connecting {src}.{out} -> {dst}.{inp}", target.connect, params)


def _host_ip(address: str) -> str:
    """The IP address of a ``tcp://HOST:PORT`` address (a name is resolved)."""
    host = address[len("tcp://"):].rsplit(":", 1)[0].strip("[]")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        return socket.gethostbyname(host)


def reachable_interface(remote_address: str) -> str:
    """This machine's IP address on the route to ``remote_address`` (tcp://HOST:PORT)."""
    ip = _host_ip(remote_address)
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.connect((ip, 9))          # UDP connect sends nothing; it only picks the route
        return s.getsockname()[0]


class _Placement:
    """Which machine each group runs on, and the stream params that follow from it."""

    def __init__(self, spec: GraphSpec, manager: Manager):
        self.spec, self.manager = spec, manager
        self.hosts = {g: (opts.get("host") or "localhost") for g, opts in spec.groups.items()}

    def host_of(self, group: str) -> str:
        return self.hosts.get(group, "localhost")

    def address_of(self, host: str) -> str | None:
        entry = self.manager.hosts.get(host)
        return entry["address"] if isinstance(entry, dict) else None

    def machine_of(self, group: str) -> str:
        """The host of ``group``, as ``localhost`` when its daemon listens on ipc (this machine)."""
        host = self.host_of(group)
        return "localhost" if (self.address_of(host) or "").startswith("ipc://") else host

    def stream_params(self, name: str, out: str, params: dict, groups: set[str]) -> dict:
        """Protocol and interface of output ``name.out`` consumed by ``groups``."""
        own = self.spec.nodes[name].group
        host = self.host_of(own)
        other_hosts = {self.host_of(g) for g in groups
                       if self.machine_of(g) != self.machine_of(own)}
        asked = params.get("protocol")
        if asked is None:
            params["protocol"] = "inproc" if groups <= {own} else "tcp" if other_hosts else "ipc"
        elif asked == "inproc" and not groups <= {own}:
            params["protocol"] = "tcp" if other_hosts else "ipc"
        elif asked == "ipc" and other_hosts:
            params["protocol"] = "tcp"
        if params["protocol"] != asked and asked is not None:
            log.info("output %s.%s: protocol %r cannot reach its consumers (groups %s); using %r",
                     name, out, asked, ", ".join(sorted(groups)), params["protocol"])
        if params["protocol"] == "tcp" and other_hosts and \
                is_loopback(f"tcp://{params.get('interface', '127.0.0.1')}:0"):
            params["interface"] = self.interface_for(host, sorted(other_hosts)[0])
        return params

    def interface_for(self, host: str, consumer_host: str) -> str:
        """An address of ``host`` that ``consumer_host`` can reach."""
        address = self.address_of(host)
        if address is not None and not is_loopback(address):
            return _host_ip(address)
        target = self.address_of(consumer_host)
        if target is None:
            raise GraphBuildError(f"no address known for host {consumer_host!r}")
        return reachable_interface(target)

    def probe_sharedmem(self, name: str, out: str, groups: set[str]) -> str | None:
        """None when every consumer group attaches the output's segment, else why not."""
        params = self.manager.output_params(name, out)
        for g in sorted(groups):
            rshm = self.manager.groups[g].spawner.client.import_module("acqflow.dataflow.streams.sharedmem")
            reason = rshm.probe_segment(params["shm_name"], params.get("shm_nonce"))
            if reason is not None:
                return f"group {g!r} (host {self.host_of(g)!r}): {reason}"
        return None


def _configure_output(manager: Manager, place: _Placement, name: str, out: str, params: dict,
                      groups: set[str]) -> None:
    output = manager.node(name).outputs[out]
    params = place.stream_params(name, out, params, groups)
    _step(f"configuring output {name}.{out}", output.configure, **params)
    if params.get("transfermode") != "sharedmem" or not groups:
        return
    reason = _step(f"probing shared memory of {name}.{out}", place.probe_sharedmem, name, out, groups)
    if reason is None:
        return
    log.warning("output %s.%s: shared memory is not reachable from every consumer (%s); "
                "falling back to transfermode='plaindata'", name, out, reason)
    _step(f"closing output {name}.{out}", output.close)
    params = dict(params, transfermode="plaindata")
    if params["protocol"] == "inproc":
        params["protocol"] = "ipc"
    _step(f"configuring output {name}.{out}", output.configure, **params)


def _preload(spec: GraphSpec, group: str) -> list[str]:
    """Modules the group's nodes will import (their classes' modules and warm_imports),
    for its process to import while the other groups start."""
    modules: list[str] = []
    for ns in spec.nodes.values():
        if ns.group != group:
            continue
        try:
            cls = get_node_type(ns.type)
        except (KeyError, ImportError):
            continue                       # creating the node reports it
        for module in (cls.__module__, *getattr(cls, "warm_imports", ())):
            if module not in modules:
                modules.append(module)
    return modules


def build_graph(spec: GraphSpec, manager: Manager, keys_dir: str | None = None,
                progress: Callable[[str], None] | None = None) -> None:
    """Spawn the groups (on their hosts), create/configure the nodes, configure
    outputs (see the placement rules above), connect, and initialize, sources
    first.  Nodes are left ready to start.  ``keys_dir`` (default
    ``$ACQFLOW_KEYS``) holds the Curve keys for hosts that are not loopback.
    ``progress(text)`` is told each step as it begins (``acqflow run`` prints them)."""
    say = progress or (lambda text: None)
    keys_dir = keys_dir or os.environ.get("ACQFLOW_KEYS") or None
    for name, address in spec.hosts.items():
        say(f"connecting to host {name!r} ({address})")
        manager.add_host(name, address, keys_dir=None if is_loopback(address) else keys_dir)
    used = {n.group for n in spec.nodes.values()}
    spawned = [g for g in spec.groups if g in used]
    if spawned:
        remote = [f"{g!r} on host {spec.groups[g]['host']!r}" if spec.groups[g].get("host")
                  else repr(g) for g in spawned]
        say(f"spawning {len(spawned)} group{'s' * (len(spawned) != 1)} side by side "
            f"({', '.join(remote)})")
    groups = _step(f"starting node groups {', '.join(map(repr, spawned))}",
                   manager.create_nodegroups,
                   [{"name": g, "host": spec.groups[g].get("host"), "qt": bool(spec.groups[g].get("qt", False)),
                     "restart": spec.groups[g].get("restart"), "preload": _preload(spec, g)}
                    for g in spawned])
    for group in groups:
        for module in spec.imports:
            _step(f"importing {module!r} in group {group.name!r}", group.import_module, module)
    place = _Placement(spec, manager)
    order = spec.order()
    say(f"creating and configuring {len(order)} node{'s' * (len(order) != 1)}")
    for name in order:
        ns = spec.nodes[name]
        node = _step(f"creating node {name!r} ({ns.type})", manager.groups[ns.group].create_node, ns.type, name)
        _step(f"configuring node {name!r} ({ns.type})", node.configure, **ns.params)
    consumers: dict[tuple[str, str], set[str]] = {}
    for c in spec.connections:
        consumers.setdefault(c.source, set()).add(spec.nodes[c.target[0]].group)
    # Sources first: a node's inputs are connected before its outputs are configured,
    # since nodes derive their output params (shape, rate...) from their inputs.
    late = [c for c in spec.connections if c.feedback]
    n = len(spec.connections)
    say(f"connecting {n} stream{'s' * (n != 1)}")
    for name in order:
        for c in spec.connections:
            if c.target[0] == name and not c.feedback:
                _connect(manager, c)
        ns = spec.nodes[name]
        for out in sorted(set(ns.outputs) | {o for (n, o) in consumers if n == name}):
            _configure_output(manager, place, name, out, spec.output_params(name, out),
                              consumers.get((name, out), set()))
    for c in late:
        _connect(manager, c)
    say("initializing nodes")
    for name in order:
        _step(f"initializing node {name!r}", manager.node(name).initialize)
    if any(h != "localhost" for h in place.hosts.values()):
        manager.clocks.wait_rounds(2, timeout=20.0)   # offsets known before anything starts
    manager.refresh()
