"""pyacq's node state queries as methods: ``node.configured()``, ``initialized()``,
``running()``, ``closed()``.

acqflow's own nodes have them as read-only attributes (``node.running``), as its streams
have ``configured`` and ``connected``; every pyacq-named node class takes this mixin first,
so pyacq code keeps calling them.  The mixin also makes the node's outputs take pyacq's
``configure()`` arguments (pyacq.core.stream's OutputStream).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ....dataflow.streams.outputstream import OutputStream as _OutputStream
from .stream.stream import OutputStream

if TYPE_CHECKING:                 # a mixin, always taken first by a Node class
    from ....dataflow.graph.node import Node as _MixedInto
else:
    _MixedInto = object

__all__ = ["PyacqStates"]


class PyacqStates(_MixedInto):
    """pyacq's method forms of acqflow Node's state flags (from ``state``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for output in getattr(self, "outputs", {}).values():
            if type(output) is _OutputStream:     # the same stream, taking pyacq's arguments
                output.__class__ = OutputStream

    # pyacq's methods in place of acqflow's read-only attributes (incompatible on purpose)
    def configured(self) -> bool:  # type: ignore[override]  # pyacq's state methods
        return self._flag("configured")

    def initialized(self) -> bool:  # type: ignore[override]  # pyacq's state methods
        return self._flag("initialized")

    def running(self) -> bool:  # type: ignore[override]  # pyacq's state methods
        return self._flag("running")

    def closed(self) -> bool:  # type: ignore[override]  # pyacq's state methods
        return self._flag("closed")
