"""pyacq's node state queries as methods: ``node.configured()``, ``initialized()``,
``running()``, ``closed()``.

acqflow's own nodes have them as read-only attributes (``node.running``), as its streams
have ``configured`` and ``connected``; every pyacq-named node class takes this mixin first,
so pyacq code keeps calling them.
"""
from __future__ import annotations

__all__ = ["PyacqStates"]


class PyacqStates:
    """pyacq's method forms of acqflow Node's state flags (from ``state``)."""

    def configured(self) -> bool:
        return self._flag("configured")

    def initialized(self) -> bool:
        return self._flag("initialized")

    def running(self) -> bool:
        return self._flag("running")

    def closed(self) -> bool:
        return self._flag("closed")
