"""GroupHandle: one node-group process as the Manager sees it."""
from __future__ import annotations

import logging
import signal
import time
from typing import Any

from ..rpc import ProcessSpawner

__all__ = ["GroupHandle", "exit_reason"]

log = logging.getLogger(__name__)


def exit_reason(code: int | None) -> str:
    """'exit code 3' or 'killed by SIGKILL' for a process exit status."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class GroupHandle:
    """A node group: its process, a proxy to its NodeGroup, its nodes' proxies.

    ``state`` is 'running' (process alive), 'dead', 'restarting' (until its
    nodes are re-created, reconnected and restarted) or 'closed'.  ``snapshot`` is
    the group's last ``describe()``, used to rebuild it after a crash.
    """

    def __init__(self, manager: Any, name: str, host: str | None, qt: bool, restart: bool,
                 wait: bool = True, preload: tuple[str, ...] = ()) -> None:
        self.manager = manager
        self.name = name
        self.host = host
        self.qt = qt
        self.restart = restart
        self.state = "new"
        self.reason: str | None = None
        self.snapshot: dict[str, Any] = {"nodes": {}}
        self.nodes: dict[str, Any] = {}
        self.restarts = 0
        self.died_at: float | None = None
        self._next_restart = 0.0
        self.preload = tuple(preload)     # modules its process imports as it starts
        self._launch()
        if wait:
            self.wait_started()

    def _spawn(self) -> None:
        self._launch()
        self.wait_started()

    def _launch(self) -> None:
        if self.host not in (None, "localhost"):
            self.spawner = self.manager._spawn_remote(self.name, self.host, self.qt)
        else:
            self.spawner = ProcessSpawner(name=self.name, qt=self.qt, wait=False,
                                          preload=self.preload)

    def wait_started(self) -> None:
        """Wait for the launched process and create its NodeGroup (state 'running')."""
        if self.state == "running":
            return
        wait = getattr(self.spawner, "wait_started", None)
        if wait is not None:
            wait()
        rdataflow = self.spawner.client.import_module("acqflow.dataflow")
        self.proxy = rdataflow.NodeGroup(self.name)
        self.pid = self.spawner.pid
        self.nodes = {}
        self.state = "running"
        self.reason = None

    def import_module(self, module: str) -> None:
        """Import a module in the group's process (e.g. to register node types)."""
        self.proxy.import_module(module)

    def create_node(self, type_name: str, name: str | None = None) -> Any:
        """Create a node of a registered type in this group; returns its proxy."""
        name = name or f"{type_name}{len(self.manager._node_groups)}"
        if name in self.manager._node_groups:
            raise ValueError(f"a node named {name!r} already exists (in group "
                             f"{self.manager._node_groups[name]!r}); node names are unique")
        node = self.proxy.create_node(type_name, name)
        self.nodes[name] = node
        self.manager._node_groups[name] = self.name
        return node

    def refresh(self) -> None:
        """Take a new snapshot of the group (heartbeat)."""
        self.spawner.client    # this thread's client then fails as soon as the process is lost
        self.snapshot = self.proxy.describe(_timeout=self.manager.heartbeat * 4)

    @property
    def host_reachable(self) -> bool:
        """False while the host daemon of a remote group does not answer."""
        monitor = getattr(self.spawner, "monitor", None)
        return monitor is None or monitor.reachable

    def death_reason(self, code: int) -> str:
        """Why the process is gone: 'killed by SIGKILL', 'host rig unreachable: ...'."""
        return getattr(self.spawner, "lost_reason", None) or exit_reason(code)

    def ready_to_restart(self) -> bool:
        """A dead group can be rebuilt now: its host answers and no recent attempt failed."""
        return self.state == "dead" and self.host_reachable and time.monotonic() >= self._next_restart

    def restart_failed(self, backoff: float = 2.0) -> None:
        """Wait ``backoff`` s before the restart policy tries again."""
        self._next_restart = time.monotonic() + backoff

    def died(self, reason: str) -> None:
        """Mark the group dead and its nodes in error, keeping their previous states."""
        self.state = "dead"
        self.reason = reason
        self.died_at = time.monotonic()
        error = reason if not self.host_reachable else f"process died: {reason}"
        names = ", ".join(self.snapshot["nodes"]) or "none"
        for node in self.snapshot["nodes"].values():
            node["last_state"] = node["state"]
            node["state"] = "error"
            node["error"] = error
        log.error("node group %r (pid %s) died: %s; its nodes (%s) are now in error",
                  self.name, self.pid, reason, names)

    def rebuild(self, resume: dict[tuple[str, str], int] | None = None) -> list[str]:
        """Spawn a new process and re-create the snapshot's nodes, configured and
        connected as before (sources first).

        Each node's inputs are connected before its outputs are configured, since
        nodes derive their output params (dtype, shape, rate) from their inputs.
        Outputs continue from their last index, or from ``resume[(node, output)]``
        when consumers have seen further.  Returns the node names, for the
        Manager to initialize, restart and reconnect their consumers.
        """
        resume = resume or {}
        old = self.snapshot
        self.spawner.kill()
        self._drop_client()
        self._spawn()
        self.state = "restarting"
        for module in old.get("modules", []):
            self.proxy.import_module(module)
        for name, desc in old["nodes"].items():
            node = self.proxy.create_node(desc["type"], name)
            self.nodes[name] = node
            if desc.get("last_state", desc["state"]) != "new":
                node.configure(**desc["config"])
        order = [n for n in self.manager.order() if n in old["nodes"]]
        for name in order + [n for n in old["nodes"] if n not in order]:
            desc, node = old["nodes"][name], self.nodes[name]
            for inp, d in desc["inputs"].items():
                if d.get("source") and d["source"][0]:
                    src, out = d["source"]
                    node.inputs[inp].connect(self.manager.output_params(src, out))
            for out_name, out in desc["outputs"].items():
                if out["configured"]:
                    node.outputs[out_name].configure(**out["kwargs"])
                # indexes never rewind, even past what the (stale) snapshot saw
                node.outputs[out_name].advance_to(max(out["index"], resume.get((name, out_name), 0)))
        self.snapshot = old
        return list(old["nodes"])

    def close(self) -> str | None:
        """Close the group's nodes and process; what went wrong, if anything."""
        problem = None
        if self.state in ("running", "restarting"):
            try:
                self.proxy.close(_timeout=30)
            except Exception as exc:
                log.warning("closing node group %r: %s", self.name, exc)
                problem = f"closing node group {self.name!r}: {exc}"
            code = self.spawner.stop()
            if code and problem is None:
                problem = f"node group {self.name!r} ended with {exit_reason(code)}"
        elif self.state == "dead":
            self.spawner.kill()
        self._drop_client()
        self.state = "closed"
        return problem

    def _drop_client(self) -> None:
        """Close this thread's client to the (gone) process: each holds file descriptors."""
        try:
            self.spawner.client.close()
        except Exception as exc:      # noqa: BLE001 - best effort, the process is gone anyway
            log.debug("closing the client of node group %r: %s", self.name, exc)

    def __repr__(self) -> str:
        return f"<GroupHandle {self.name!r} pid={self.pid} {self.state}>"
