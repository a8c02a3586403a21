"""The stream relays as ordinary processing nodes: StreamConverter, ChannelSplitter, ChunkResizer.

Each is one class, used as ``acqflow.StreamConverter`` and as the graph node type
"StreamConverter" alike, with the node life-cycle: ``configure(...)`` and connect
``input`` (either order), optionally configure the outputs, ``initialize()``,
``start()``, ``stop()``, ``close()``.  Outputs inherit the input's params, with the
overrides given to ``configure``; their sockets and shared memory are made once, by
``initialize()`` (or by the caller's ``output.configure(...)``).  Absolute indexes are
preserved, so gaps pass through as gaps.
"""
from __future__ import annotations

from typing import Any, NoReturn

import numpy as np

from ..streams.outputstream import OutputStream
from ..paramcheck import int_in, refusal
from .processing import ProcessingNode
from ..streams.spec import inherited_params
from ..streams.spec import make_dtype, normalize_params

__all__ = ["StreamConverter", "ChannelSplitter", "ChunkResizer"]


class _Relay(ProcessingNode):
    """A ProcessingNode whose outputs are the input's signal with ``configure``'s overrides."""

    _input_specs: dict[str, dict] = {"input": {}}

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self._given: dict[str, Any] | None = None      # output params given to configure()

    def _configure(self, **output_params: Any) -> None:
        """``output_params``: the output's stream params where they differ from the input's
        (``protocol``, ``transfermode``, ``dtype``, ... as OutputStream.configure takes)."""
        before, self._given = self._given, output_params
        if self.inputs["input"].connected:
            try:
                self._derive_output()
            except Exception:
                self._given = before          # a refused configure() leaves the node as it was
                raise

    def _refuse(self, message: str) -> NoReturn:
        raise ValueError(f"node {self.name!r}: {message}")

    def _output_specs_for(self, input_params: dict) -> dict[str, dict]:
        """Output name -> params that follow from the input (before the overrides)."""
        return {"output": inherited_params(input_params)}

    def _derive_output(self) -> None:
        if self._given is None:           # configure() not called yet: done by configure()
            return
        try:
            specs = self._output_specs_for(self.inputs["input"].params)
            for name, spec in specs.items():
                spec.update(self._given)
                spec.pop("name", None)
                normalize_params(dict(spec))          # refuse a bad param now, not at initialize
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"node {self.name!r}: {exc}") from None
        for out in self.outputs.values():
            out.close()                               # configure() again: only specs change
        self.outputs = {name: OutputStream(spec=spec, node=self, name=name)
                        for name, spec in specs.items()}


class StreamConverter(_Relay):
    """Re-sends a stream with another protocol, transfer mode or dtype (cast):
    ``configure(**output params)``."""

    def _initialize(self) -> None:
        super()._initialize()
        self._dtype = make_dtype(self.outputs["output"].params["dtype"])

    def process(self, index: int, data: np.ndarray) -> np.ndarray:
        return data if data.dtype == self._dtype else data.astype(self._dtype)


class ChannelSplitter(_Relay):
    """Splits a (time, channels) stream into one output per channel group.

    ``configure(output_channels={'left': [0], 'right': [1, 2]}, **output_params)``;
    ``channel_info`` entries follow their channels.
    """

    _input_specs = {"input": {"ndim": 2}}
    _output_specs: dict[str, dict] = {}
    _dynamic_ports = True            # one output per group, named at configure()

    def _configure(self, output_channels: dict[str, list[int]] | None = None,
                   **output_params: Any) -> None:
        if not isinstance(output_channels, dict) or not output_channels:
            self._refuse(refusal("output_channels", "a dict of output name -> channel list", output_channels))
        try:
            self._groups = {str(k): [int(c) for c in v] for k, v in output_channels.items()}
        except (TypeError, ValueError):
            self._refuse(refusal("output_channels values", "lists of channel numbers", output_channels))
        super()._configure(**output_params)

    def _output_specs_for(self, input_params: dict) -> dict[str, dict]:
        n_channels = input_params["shape"][1]
        info = input_params.get("channel_info")
        specs = {}
        for name, channels in self._groups.items():
            bad = [c for c in channels if not 0 <= c < n_channels]
            if bad or not channels:
                raise ValueError(f"output {name!r} channels {bad or channels} are not within the "
                                 f"input's {n_channels} channels")
            extra: dict[str, Any] = {"shape": (-1, len(channels))}
            if isinstance(info, list) and len(info) == n_channels:
                extra["channel_info"] = [info[c] for c in channels]
            specs[name] = inherited_params(input_params, **extra)
        return specs

    def _initialize(self) -> None:
        super()._initialize()
        self._sends = [(self.outputs[name].send, np.array(channels))
                       for name, channels in self._groups.items()]

    def _handle(self, index: int, data: np.ndarray) -> None:
        for send, channels in self._sends:
            send(np.ascontiguousarray(data[:, channels]), index=index)


class ChunkResizer(_Relay):
    """Re-sends a stream in chunks of exactly ``chunksize`` samples: ``configure(chunksize=256)``.

    A gap in the input ends the chunk in progress early (so the gap stays a gap);
    everything else goes out in whole chunks.
    """

    def _configure(self, chunksize: int | None = None, **output_params: Any) -> None:
        try:
            self.chunksize = int_in("chunksize", chunksize)
        except ValueError as exc:
            self._refuse(str(exc))
        super()._configure(**output_params)

    def _start(self) -> None:
        self._held: list[np.ndarray] = []
        self._held_n = 0
        self._held_end: int | None = None
        super()._start()

    def _handle(self, index: int, data: np.ndarray) -> None:
        out = self.outputs["output"]
        start = index - len(data)
        if self._held and start != self._held_end:
            out.send(np.concatenate(self._held), index=self._held_end)
            self._held, self._held_n = [], 0
        self._held.append(data)
        self._held_n += len(data)
        self._held_end = index
        if self._held_n < self.chunksize:
            return
        joined = np.concatenate(self._held)
        whole = (len(joined) // self.chunksize) * self.chunksize
        first = index - len(joined)
        for k in range(0, whole, self.chunksize):
            out.send(joined[k:k + self.chunksize], index=first + k + self.chunksize)
        rest = joined[whole:]
        self._held = [rest] if len(rest) else []
        self._held_n = len(rest)
