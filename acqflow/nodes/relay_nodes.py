"""The dataflow stream helpers (StreamConverter, ChannelSplitter, ChunkResizer) as graph nodes.

Each node owns one of acqflow.dataflow.relays' helpers and lends it its
``input``; the helper's ``configure`` checks the arguments and works out each
output's params (inherited from the input), and its ``_process`` does the work
in the node's worker thread.  The node's outputs are then left unconfigured
(their spec holds those params) so that, like any node's, they are configured
by ``initialize()`` or by the caller (a graph file's output params).
Gap policy: as the helpers: absolute indexes are kept, so gaps pass through.
"""
from __future__ import annotations

from ..dataflow import relays
from ..dataflow.node import Node
from ..dataflow.outputstream import OutputStream
from ..dataflow.registry import register_node_type
from .base import _Poller, check_input

__all__ = ["StreamConverterNode", "ChannelSplitterNode", "ChunkResizerNode"]


class _RelayNode(Node):
    """Node shell around a relays helper; outputs exist once configured and connected."""

    _relay_class: type = relays.StreamConverter
    _relay_keys: tuple = ()          # configure() arguments that are the helper's, not output params
    _input_specs = {"input": {}}
    _output_specs: dict = {}

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self._relay = self._relay_class(name=self.name)
        self._relay.input.close()
        self._relay.input = self.inputs["input"]          # the helper reads the node's input
        self._relay_kwargs: dict | None = None
        self._poller: _Poller | None = None

    def _configure(self, **kwargs) -> None:
        self._relay_kwargs = dict(kwargs)
        if self.inputs["input"].connected:
            self._build()

    def check_input(self, params: dict) -> None:
        """Raise ValueError if the input cannot be relayed (default: anything goes)."""

    def after_input_connect(self, inputname: str) -> None:
        try:
            self.check_input(self.inputs[inputname].params)
            if self._relay_kwargs is not None:
                self._build()
        except Exception:
            self.inputs[inputname].close()
            raise

    def _build(self) -> None:
        for out in self._relay.outputs.values():
            out.close()                                    # configure() again: replace them
        try:
            self._relay.configure(**self._relay_kwargs)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"node {self.name!r}: {exc}") from None
        given = {k: v for k, v in self._relay_kwargs.items() if k not in self._relay_keys}
        fresh = {}
        for name, out in self._relay.outputs.items():
            spec = {**relays.inherited_params(out.params), **given}
            spec.pop("name", None)
            out.close()                                    # the helper's own, bound: replaced
            fresh[name] = OutputStream(spec=spec, node=self, name=name)
        self.outputs = self._relay.outputs = fresh

    def _start(self) -> None:
        self._poller = _Poller(self.inputs["input"], return_data=True, name=f"{self.name} worker")
        self._poller.process_data = self._relay._process
        self._poller.on_error = self.set_error
        self._poller.start()

    def _stop(self) -> None:
        if self._poller is not None:
            self._poller.stop()
            self._poller.join()
            self._poller = None


class StreamConverterNode(_RelayNode):
    """Re-sends its input with another protocol, transfer mode or dtype (``configure(**output params)``)."""

    _relay_class = relays.StreamConverter


class ChannelSplitterNode(_RelayNode):
    """One output per channel group: ``configure(output_channels={'left': [0], 'right': [1, 2]})``."""

    _relay_class = relays.ChannelSplitter
    _relay_keys = ("output_channels",)
    _dynamic_ports = True            # one output per group, named at configure()

    def check_input(self, params: dict) -> None:
        check_input(self, "input", params, ndim=2)


class ChunkResizerNode(_RelayNode):
    """Re-sends its input in chunks of exactly ``chunksize`` samples (a gap ends a chunk early)."""

    _relay_class = relays.ChunkResizer
    _relay_keys = ("chunksize",)


register_node_type(StreamConverterNode, "StreamConverter")
register_node_type(ChannelSplitterNode, "ChannelSplitter")
register_node_type(ChunkResizerNode, "ChunkResizer")
