"""Stream helpers that re-send one input: StreamConverter, ChannelSplitter, ChunkResizer.

Each has pyacq's node shape: connect ``input``, ``configure(...)`` the outputs
(params not given are inherited from the input), ``start()``, ``stop()``,
``close()``.  Absolute indexes are preserved, so gaps pass through as gaps.
"""
from __future__ import annotations

import numpy as np

from .inputstream import InputStream
from .outputstream import OutputStream
from .errors import StreamError
from .spec import inherited, make_dtype
from .threadpoll import ThreadPollInput

__all__ = ["StreamConverter", "ChannelSplitter", "ChunkResizer", "inherited_params"]



def inherited_params(input_params: dict, **overrides) -> dict:
    """Output params describing the same signal as ``input_params``, with overrides
    (transport params belong to one output and are never inherited: see spec.PARAMS)."""
    return inherited(input_params, **overrides)


class _Relay:
    """Owns one input and a thread that passes every chunk to ``_process``."""

    def __init__(self, name: str | None = None):
        self.name = name or type(self).__name__
        self.input = InputStream(name=f"{self.name}.input")
        self.outputs: dict[str, OutputStream] = {}
        self._thread: ThreadPollInput | None = None

    @property
    def output(self) -> OutputStream:
        if len(self.outputs) != 1:
            raise StreamError(f"{self.name} has {len(self.outputs)} outputs; use .outputs[name]")
        return next(iter(self.outputs.values()))

    def _need_input(self) -> dict:
        if not self.input.connected:
            raise StreamError(f"{self.name}: connect input before configure() "
                              f"(outputs inherit the input's params)")
        return self.input.params

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise StreamError(f"{self.name} is already running")
        self._thread = ThreadPollInput(self.input, return_data=True, name=f"{self.name} thread")
        self._thread.process_data = self._process
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread.join()
            self._thread = None

    @property
    def error(self) -> BaseException | None:
        return None if self._thread is None else self._thread.error

    def close(self) -> None:
        self.stop()
        self.input.close()
        for out in self.outputs.values():
            out.close()

    def _process(self, index: int, data: np.ndarray) -> None:
        raise NotImplementedError


class StreamConverter(_Relay):
    """Re-sends a stream with another protocol, transfer mode or dtype (cast)."""

    def configure(self, **output_params) -> None:
        params = inherited_params(self._need_input(), **output_params)
        self._dtype = make_dtype(params.get("dtype", self.input.params["dtype"]))
        out = OutputStream(name=f"{self.name}.output")
        out.configure(**params)
        self.outputs = {"output": out}

    def _process(self, index: int, data: np.ndarray) -> None:
        if data.dtype != self._dtype:
            data = data.astype(self._dtype)
        self.outputs["output"].send(data, index=index)


class ChannelSplitter(_Relay):
    """Splits a (time, channels) stream into one output per channel group.

    ``configure(output_channels={'left': [0], 'right': [1, 2]}, **output_params)``;
    ``channel_info`` entries follow their channels.
    """

    def configure(self, output_channels: dict[str, list[int]], **output_params) -> None:
        in_params = self._need_input()
        shape = in_params.get("shape")
        if shape is None or len(shape) != 2:
            raise ValueError(f"{self.name}: needs a (time, channels) input, got shape {shape}")
        n_channels = shape[1]
        self._groups = {}
        for name, channels in output_channels.items():
            channels = [int(c) for c in channels]
            bad = [c for c in channels if not 0 <= c < n_channels]
            if bad or not channels:
                raise ValueError(f"{self.name}: output {name!r} channels {bad or channels} are not "
                                 f"within the input's {n_channels} channels")
            self._groups[name] = np.array(channels)
        for out in self.outputs.values():
            out.close()
        self.outputs = {}
        info = in_params.get("channel_info")
        for name, channels in self._groups.items():
            extra = {"shape": (-1, len(channels))}
            if isinstance(info, list) and len(info) == n_channels:
                extra["channel_info"] = [info[c] for c in channels]
            out = OutputStream(name=f"{self.name}.{name}")
            out.configure(**inherited_params(in_params, **extra, **output_params))
            self.outputs[name] = out

    def _process(self, index: int, data: np.ndarray) -> None:
        for name, channels in self._groups.items():
            self.outputs[name].send(np.ascontiguousarray(data[:, channels]), index=index)


class ChunkResizer(_Relay):
    """Re-sends a stream in chunks of exactly ``chunksize`` samples.

    A gap in the input ends the chunk in progress early (so the gap stays a gap);
    everything else goes out in whole chunks.
    """

    def configure(self, chunksize: int, **output_params) -> None:
        if not isinstance(chunksize, (int, np.integer)) or chunksize < 1:
            raise ValueError(f"{self.name}: chunksize must be a positive int, got {chunksize!r}")
        self.chunksize = int(chunksize)
        out = OutputStream(name=f"{self.name}.output")
        out.configure(**inherited_params(self._need_input(), **output_params))
        self.outputs = {"output": out}
        self._held: list[np.ndarray] = []
        self._held_n = 0
        self._held_end: int | None = None

    def _process(self, index: int, data: np.ndarray) -> None:
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
