"""pyacq's stream names (``signals``, ``events``) on acqflow nodes whose streams are ``input``/``output``."""
from __future__ import annotations

from ....dataflow.graph.node import Ports

__all__ = ["AliasDict", "alias_streams"]


class AliasDict(Ports):
    """A node's ports where pyacq's name also finds the stream.

    The alias is not listed, so ``node.input`` (exactly one stream) still works."""

    def __init__(self, node, kind: str, streams: dict, aliases: dict[str, str]):
        super().__init__(node, kind, streams)
        self.aliases = dict(aliases)

    def __missing__(self, key):
        if key in self.aliases:
            return dict.__getitem__(self, self.aliases[key])
        return super().__missing__(key)

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or key in self.aliases


def alias_streams(node, inputs: dict[str, str] | None = None, outputs: dict[str, str] | None = None) -> None:
    """Let ``node.inputs[pyacq_name]`` / ``node.outputs[pyacq_name]`` reach acqflow's streams."""
    node.inputs = AliasDict(node, "input", node.inputs, inputs or {})
    node.outputs = AliasDict(node, "output", node.outputs, outputs or {})
