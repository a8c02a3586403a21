"""Manager: node groups in their own processes, their nodes, and their health.

``create_nodegroup(name)`` spawns a process holding a NodeGroup;
``group.create_node('Type', name=...)`` returns a proxy to a node in it.  A
heartbeat thread notices a dead group process within ``2 * heartbeat`` s,
marks its nodes ``error``, logs who died and why, keeps the other groups
running, and (with ``restart=True``) rebuilds the group: nodes re-created and
configured as before, re-connected on both sides, restarted if they ran.
"""
from __future__ import annotations

import graphlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from .. import hooks
from ..dataflow.graph.graphspec import topological_order
from ..dataflow.stats import Stats
from ..rpc.proxy import get_value
from .groups import GroupHandle

if TYPE_CHECKING:
    from .remote import RemoteGroupProcess

__all__ = ["Manager", "ManagerStats", "create_manager"]

log = logging.getLogger(__name__)


def create_manager(**kwargs: Any) -> "Manager":
    """pyacq's entry point: a Manager in this process."""
    return Manager(**kwargs)


@dataclass(frozen=True)
class ManagerStats(Stats):
    """A graph's snapshot: per group its state, pid, restarts, clock and its GroupStats
    (plain dicts, as they come from the group processes)."""

    time: float
    groups: dict[str, dict[str, Any]]


class Manager:
    """Keeps the hosts, node groups, nodes and connections of a running graph."""

    def __init__(self, heartbeat: float = 0.5, restart: bool = False):
        self.heartbeat = heartbeat
        self.restart = restart
        self.hosts: dict[str, Any] = {"localhost": None}
        self.groups: dict[str, GroupHandle] = {}
        self._node_groups: dict[str, str] = {}      # node name -> group name
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self.close_problems: list[str] = []
        self.on_group_death: list[Callable[[str, str], None]] = []
        self._monitor = threading.Thread(target=self._watch, name="acqflow-manager-heartbeat", daemon=True)
        self._monitor.start()
        from ..rpc.clocksync import ClockMonitor      # clock offsets of every group's host
        self.clocks = ClockMonitor(lambda: {n: g.spawner for n, g in list(self.groups.items())
                                            if g.state == "running"})

    # -- building ------------------------------------------------------------
    def add_host(self, name: str, address: str, keys_dir: str | None = None) -> None:
        """Register a host daemon (``acqflow host``) that node groups can be placed on;
        ``keys_dir`` holds the Curve keys (``acqflow keys``) for a non-loopback one."""
        keys_dir = os.path.expanduser(str(keys_dir)) if keys_dir else None
        self.hosts[name] = {"address": address, "keys_dir": keys_dir}

    def _spawn_remote(self, group: str, host: str, qt: bool) -> RemoteGroupProcess:
        if host not in self.hosts:
            raise KeyError(f"unknown host {host!r}; add_host() it first (hosts: {', '.join(self.hosts)})")
        from .remote import spawn_on_host
        return spawn_on_host(self.hosts[host], name=group, qt=qt, host_name=host)

    def create_nodegroup(self, name: str | None = None, host: str | None = None, qt: bool = False,
                         restart: bool | None = None) -> GroupHandle:
        """Spawn a process (locally or on ``host``) holding a new NodeGroup."""
        return self.create_nodegroups([{"name": name, "host": host, "qt": qt,
                                        "restart": restart}])[0]

    def create_nodegroups(self, specs: list[dict[str, Any]]) -> list[GroupHandle]:
        """Spawn several node groups side by side (each spec: the keyword arguments of
        :meth:`create_nodegroup`, plus ``preload``: modules the process imports as it
        starts): every process is launched, then each is waited for, so their
        start-ups overlap.  If one fails, the ones already launched are closed."""
        launched: list[GroupHandle] = []
        try:
            with self._lock:
                for spec in specs:
                    name = spec.get("name") or f"nodegroup{len(self.groups)}"
                    if name in self.groups:
                        raise ValueError(f"a node group named {name!r} already exists")
                    restart = spec.get("restart")
                    group = GroupHandle(self, name, spec.get("host"), bool(spec.get("qt")),
                                        self.restart if restart is None else restart, wait=False,
                                        preload=tuple(spec.get("preload") or ()))
                    self.groups[name] = group
                    launched.append(group)
            for group in launched:
                group.wait_started()
        except BaseException:
            for group in launched:
                self.groups.pop(group.name, None)
                group.spawner.kill()
            raise
        return launched

    def node(self, name: str) -> Any:
        """The current proxy of node ``name`` (new after a group restart)."""
        try:
            return self.groups[self._node_groups[name]].nodes[name]
        except KeyError:
            raise KeyError(f"no node named {name!r} (nodes: {', '.join(self._node_groups) or 'none'})") from None

    def clock_offsets(self) -> dict[str, dict]:
        """Per group: its clock id and estimated offset ± uncertainty (s) to this
        process's clock (see acqflow.rpc.clocksync; offset None until probed)."""
        return self.clocks.by_peer()

    def list_nodegroups(self) -> list[str]:
        """Names of the node groups (one process each), in creation order."""
        return list(self.groups)

    def list_nodes(self) -> list[str]:
        """Names of every node of every group, in creation order."""
        return list(self._node_groups)

    def refresh(self) -> None:
        """Update every live group's snapshot now.

        The heartbeat does it every ``heartbeat`` s; a restart rebuilds what the
        last snapshot shows, so changes made directly on node proxies count
        once a heartbeat (or this call) has seen them.
        """
        for group in list(self.groups.values()):
            if group.state == "running":
                group.refresh()

    def connections(self) -> list[tuple[str, str, str, str]]:
        """(source node, output, target node, input) for every connected input."""
        links = []
        for group in self.groups.values():
            for name, node in group.snapshot["nodes"].items():
                for inp, desc in node["inputs"].items():
                    if desc.get("source") and desc["source"][0]:
                        links.append((desc["source"][0], desc["source"][1], name, inp))
        return links

    def order(self) -> list[str]:
        """Node names, sources before the nodes they feed."""
        deps: dict[str, set[str]] = {n: set() for n in self._node_groups}
        for src, _, dst, _ in self.connections():
            if dst in deps and src in deps and src != dst:
                deps[dst].add(src)
        try:
            return topological_order(deps)
        except graphlib.CycleError:
            pass
        done: list[str] = []
        while len(done) < len(deps):
            ready = [n for n in deps if n not in done and deps[n] - {n} <= set(done)]
            done.extend(sorted(ready) or sorted(set(deps) - set(done)))   # cycles: any order
        return done

    # -- running -------------------------------------------------------------
    def _live_nodes(self, names: list[str]) -> list:
        return [self.node(n) for n in names
                if self.groups[self._node_groups[n]].state in ("running", "restarting")]

    def start_all(self) -> None:
        """Start every initialized or stopped node, sinks first so sources lose nothing."""
        self.refresh()
        for node in self._live_nodes(self.order()[::-1]):
            if get_value(node.state) in ("initialized", "stopped"):
                node.start()
        self.refresh()     # snapshots (used to rebuild a crashed group) show the new states

    def stop_all(self) -> None:
        """Stop running nodes, sources first."""
        for node in self._live_nodes(self.order()):
            if get_value(node.state) == "running":
                node.stop()
        self.refresh()

    def stats(self) -> ManagerStats:
        """Per group and node: state, process/CPU counters, per-input stream counters."""
        out = ManagerStats(time=time.time(), groups={})
        clocks = self.clocks.by_peer()
        for name, group in list(self.groups.items()):
            entry = {"state": group.state, "pid": group.pid, "reason": group.reason,
                     "restarts": group.restarts, "nodes": {}}
            if group.state == "running":
                try:
                    entry.update(group.proxy.stats(_timeout=max(2.0, 4 * self.heartbeat)))
                except Exception as exc:
                    entry["reason"] = f"unresponsive: {exc}"
            else:
                entry["nodes"] = {n: {"state": d["state"], "error": d.get("error"), "inputs": {},
                                      "outputs": {}, "cpu_s": None}
                                  for n, d in group.snapshot["nodes"].items()}
            entry["clock"] = clocks.get(name)
            out.groups[name] = entry
        return out

    def serve_web(self, address: str | int = "127.0.0.1:0", token: str | None = None,
                  **kwargs: Any) -> Any:
        """Serve the web monitor of this graph (acqflow.web, docs/monitor.md); returns it."""
        serve_web = hooks.get(hooks.WEB_MONITOR)     # acqflow.web, provided from above
        return serve_web(self, address, token=token, **kwargs)

    # -- liveness ------------------------------------------------------------
    def _watch(self) -> None:
        while not self._closing.wait(self.heartbeat):
            for group in list(self.groups.values()):
                if self._closing.is_set():
                    return
                with self._lock:
                    if group.state == "dead" and group.restart and group.ready_to_restart():
                        self._try_restart(group)       # e.g. its host answers again
                        continue
                    if group.state != "running":
                        continue
                    code = group.spawner.exit_code
                    if code is None:
                        try:
                            group.refresh()
                        except Exception as exc:
                            log.debug("heartbeat to %r failed: %s", group.name, exc)
                        code = group.spawner.exit_code
                    if code is None:
                        continue
                    group.died(group.death_reason(code))
                    for callback in self.on_group_death:
                        callback(group.name, group.reason or "")
                    if group.restart and group.ready_to_restart():
                        self._try_restart(group)

    def _try_restart(self, group: GroupHandle) -> None:
        try:
            self.restart_group(group.name)
        except Exception:
            group.restart_failed()
            log.exception("restarting node group %r failed", group.name)

    def restart_group(self, name: str) -> None:
        """Rebuild a dead group: same nodes, configuration, connections and states."""
        with self._lock:
            group = self.groups[name]
            if group.state in ("running", "restarting"):
                raise RuntimeError(f"node group {name!r} is {group.state}; nothing to restart")
            names = group.rebuild(self._consumer_indexes(group))
            before = {n: group.snapshot["nodes"][n] for n in names}   # inputs connected by rebuild
            for n in self.order():
                if n in before and before[n].get("last_state") in ("initialized", "running", "stopped"):
                    self.node(n).initialize()
            for n in self.order()[::-1]:
                if n in before and before[n].get("last_state") == "running":
                    self.node(n).start()
            for other in self.groups.values():              # inputs fed by the rebuilt nodes
                if other is group or other.state != "running":
                    continue
                for n, desc in other.snapshot["nodes"].items():
                    for inp, d in desc["inputs"].items():
                        if d.get("source") and d["source"][0] in before:
                            src, out = d["source"]
                            self.node(n).reconnect_input(inp, self.output_params(src, out))
            group.refresh()
            group.restarts += 1
            group.state = "running"
            log.warning("node group %r restarted (pid %s) with nodes %s", name, group.pid, ", ".join(names))

    def output_params(self, node: str, output: str) -> dict:
        """An output's params, fetched here: the input's process may not reach the
        output's process over RPC (another host, other Curve keys)."""
        return get_value(self.node(node).outputs[output].params)

    def _consumer_indexes(self, group: GroupHandle) -> dict[tuple[str, str], int]:
        """Highest index each output of ``group`` got to, as its live consumers saw it."""
        seen: dict[tuple[str, str], int] = {}
        for other in self.groups.values():
            if other is group or other.state != "running":
                continue
            for n, desc in other.snapshot["nodes"].items():
                for inp, d in desc["inputs"].items():
                    source = tuple(d.get("source") or ())
                    if source and source[0] in group.snapshot["nodes"]:
                        try:
                            index = self.node(n).inputs[inp].stats()["index"]
                        except Exception as exc:
                            log.warning("could not ask %s.%s how far it read: %s", n, inp, exc)
                            continue
                        if index is not None:
                            seen[source] = max(seen.get(source, 0), index)
        return seen

    # -- teardown ------------------------------------------------------------
    def close(self) -> list[str]:
        """Stop everything, then close nodes (sinks first) and every process.

        Returns (and keeps in ``close_problems``) what did not go cleanly: nodes that
        failed to stop or close, groups that had died or had to be killed."""
        if self._closing.is_set():
            return self.close_problems
        problems: list[str] = []
        try:
            self.stop_all()
        except Exception as exc:
            log.warning("stopping nodes: %s", exc)
            problems.append(f"stopping nodes: {exc}")
        self._closing.set()
        self.clocks.close()
        self._monitor.join()
        for group in self.groups.values():
            if group.state not in ("running", "restarting", "closed"):
                problems.append(f"node group {group.name!r} was {group.state}"
                                + (f" ({group.reason})" if group.reason else ""))
        order = self.order()[::-1]
        for name in order:
            group = self.groups[self._node_groups[name]]
            if group.state == "running":
                try:
                    self.node(name).close(_timeout=30)
                except Exception as exc:
                    log.warning("closing node %r: %s", name, exc)
                    problems.append(f"closing node {name!r}: {str(exc).splitlines()[0] if str(exc) else exc!r}")
        for group in self.groups.values():
            problem = group.close()
            if problem:
                problems.append(problem)
        from .remote import close_host
        for host in self.hosts.values():
            close_host(host)
        self.close_problems = problems
        return problems

    def __enter__(self) -> "Manager":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
