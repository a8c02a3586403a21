"""ProcessingNode: one input, outputs, and a function from chunk to chunk.

A new filter is a subclass with ``process(index, data)`` (and optionally
``_configure``, ``output_params`` and an ``_input_specs`` entry saying what it
accepts); a ThreadPollInput does the rest.  The output keeps the input's
absolute indexes, so gaps stay gaps.
"""
from __future__ import annotations

import numpy as np

from .node import Node
from ..streams.spec import inherited_params
from ..streams.threadpoll import ThreadPollInput

__all__ = ["ProcessingNode"]


class ProcessingNode(Node):
    """Reads ``input`` in a ThreadPollInput, sends ``process(index, data)`` on ``output``."""

    _input_specs: dict[str, dict] = {"input": {}}
    _output_specs: dict[str, dict] = {"output": {}}

    def output_params(self, input_params: dict) -> dict:
        """Params of the output for a given input (default: the same signal)."""
        return inherited_params(input_params)

    def after_input_connect(self, inputname: str) -> None:
        super().after_input_connect(inputname)        # the _input_specs checks
        self._derive_output()

    def _derive_output(self) -> None:
        """Put the output params that follow from the input into the output's spec."""
        self.outputs["output"].spec.update(self.output_params(self.inputs["input"].params))

    def process(self, index: int, data: np.ndarray) -> np.ndarray | None:
        """Return the chunk to send for input chunk ``data`` (None sends nothing)."""
        raise NotImplementedError

    def _handle(self, index: int, data: np.ndarray) -> None:
        out = self.process(index, data)
        if out is not None:
            self.outputs["output"].send(out, index=index)

    def _end(self) -> None:
        """The upstream output closed (end of stream): runs in the worker thread."""

    def _initialize(self) -> None:
        self._poller: ThreadPollInput | None = None

    def _start(self) -> None:
        self._poller = ThreadPollInput(self.inputs["input"], return_data=True,
                                       name=f"{self.name} worker", on_data=self._handle,
                                       on_end=self._end, on_error=self.set_error)
        self._poller.start()

    def _stop(self) -> None:
        if self._poller is not None:
            self._poller.stop()
            self._poller.join()
            self._poller = None
