"""What the web monitor's buttons do to a running graph: start, stop, restart a node
or a node group, start and stop recording.

Each function runs in one worker thread of the server (never in its event loop:
they wait on RPC), returns the states it led to, and raises ControlError (the
HTTP status and a one-line reason) when the graph refuses.
"""
from __future__ import annotations

from typing import Any

from ..errors import Error, first_line
from ..rpc.proxy import get_value

__all__ = ["ACTIONS", "ControlError", "node_action", "group_action", "recording_action",
           "recorder_names"]

ACTIONS = ("start", "stop", "restart")
RECORDER_TYPES = ("Recorder",)


class ControlError(Error):
    """A control the graph refused: ``status`` (404 unknown, 409 wrong state, 400 bad action)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise ControlError(400, f"unknown action {action[:40]!r}; choose from {', '.join(ACTIONS)}")


def _group_of(manager: Any, node: str):
    for group in list(manager.groups.values()):
        if node in group.snapshot["nodes"] or node in group.nodes:
            return group
    raise ControlError(404, f"no node named {node[:60]!r} (nodes: {', '.join(manager.list_nodes()) or 'none'})")


def _state(manager: Any, name: str) -> str:
    return get_value(manager.node(name).state)


def _do(manager: Any, names: list[str], action: str) -> dict[str, str]:
    """Stop (sources first) and/or start (sinks first) ``names``; their new states."""
    order = [n for n in manager.order() if n in names]
    try:
        if action in ("stop", "restart"):
            for n in order:
                if _state(manager, n) == "running":
                    manager.node(n).stop()
        if action in ("start", "restart"):
            for n in order[::-1]:
                state = _state(manager, n)
                if state in ("initialized", "stopped"):
                    manager.node(n).start()
                elif state != "running" and len(names) == 1:
                    raise ControlError(409, f"cannot start node {n!r} in state {state!r}")
    except ControlError:
        raise
    except Exception as exc:            # a NodeStateError from the node's process, an RPC timeout
        raise ControlError(409, f"{action} {', '.join(names)}: {first_line(exc)}") from exc
    finally:
        manager.refresh()               # snapshots (used to rebuild a crashed group) see the states
    return {n: _state(manager, n) for n in names}


def node_action(manager: Any, name: str, action: str) -> dict[str, str]:
    """Start, stop or restart (stop then start) node ``name``."""
    _check_action(action)
    group = _group_of(manager, name)
    if group.state != "running":
        raise ControlError(409, f"node {name!r} is in node group {group.name!r}, which is "
                                f"{group.state} ({group.reason or 'no reason known'}); restart the group")
    return _do(manager, [name], action)


def group_action(manager: Any, name: str, action: str) -> dict[str, str]:
    """Start, stop or restart every node of group ``name``; restarting a dead group
    rebuilds it (new process, same nodes, connections and states)."""
    _check_action(action)
    group = manager.groups.get(name)
    if group is None:
        raise ControlError(404, f"no node group named {name[:60]!r} (groups: {', '.join(manager.groups) or 'none'})")
    if group.state == "dead" and action in ("start", "restart"):
        try:
            manager.restart_group(name)
        except Exception as exc:
            raise ControlError(409, f"restarting node group {name!r}: {first_line(exc)}") from exc
        return {n: _state(manager, n) for n in group.nodes}
    if group.state != "running":
        raise ControlError(409, f"node group {name!r} is {group.state}")
    return _do(manager, list(group.nodes), action)


def recorder_names(manager: Any) -> list[str]:
    """The recorder nodes of the graph."""
    return [n for g in list(manager.groups.values()) for n, d in g.snapshot["nodes"].items()
            if d.get("type") in RECORDER_TYPES]


def recording_action(manager: Any, action: str) -> dict[str, str]:
    """Start or stop every recorder (a stopped recorder appends to its recording
    when started again; the pause is a counted gap)."""
    if action not in ("start", "stop"):
        raise ControlError(400, f"unknown recording action {action[:40]!r}; choose start or stop")
    names = recorder_names(manager)
    if not names:
        raise ControlError(404, "this graph has no recorder")
    return _do(manager, names, action)
