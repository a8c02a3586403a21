"""pyacq's NumpyDeviceBuffer: acqflow's SyntheticSignal looping a buffer, with pyacq's parameters."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ....dataflow.paramcheck import must_be, positive_number
from ....dataflow.graph.registry import register_node_type
from ....devices.synthetic import SyntheticSignal
from ..core.states import PyacqStates

__all__ = ["NumpyDeviceBuffer"]


class NumpyDeviceBuffer(PyacqStates, SyntheticSignal):
    """Streams ``buffer`` (time, nb_channel) in an endless loop on output ``signals``.

    ``configure(nb_channel=16, sample_interval=0.001, chunksize=256, buffer=None,
    channel_names=None, timeaxis=0)`` as pyacq's (``timeaxis=1``: a (channel, time) buffer,
    sent time first as every acqflow stream).  Without a buffer: 40 chunks of noise plus a
    440 Hz sine (float32), as pyacq.  A uint8 buffer can be sent as a
    ``digitalsignal`` stream (``output.configure(streamtype='digitalsignal')``);
    pyacq sends it as ``analogsignal``, the default here too.
    """

    def _configure(self, nb_channel: int = 16, sample_interval: float = 0.001, chunksize: int = 256,  # type: ignore[override]  # pyacq's arguments
                   buffer: np.ndarray | None = None,
                   channel_names: Sequence[str] | None = None, timeaxis: int = 0) -> None:
        positive_number(f"{self.name}: sample_interval", sample_interval, " s")
        if buffer is None:
            length = 40 * int(chunksize)
            t = np.arange(length) * sample_interval
            rng = np.random.default_rng(0)
            buffer = (rng.random((length, nb_channel)) * .05
                      + np.sin(2 * np.pi * 440. * t)[:, None] * .5).astype("float32")
        buffer = np.asarray(buffer)
        if timeaxis not in (0, 1):
            must_be(f"{self.name}: timeaxis", "0 or 1", timeaxis)
        if timeaxis == 1:              # pyacq's (channel, time) buffer: streams are time first
            buffer = np.ascontiguousarray(buffer.T)
        self.outputs["signals"].spec["timeaxis"] = timeaxis     # read by a 'sharedarray' configure
        if buffer.ndim != 2 or buffer.shape[1] != nb_channel:
            raise ValueError(f"{self.name}: buffer of shape {buffer.shape} does not have "
                             f"nb_channel={nb_channel} columns")
        if buffer.shape[0] % int(chunksize):
            raise ValueError(f"{self.name}: buffer length {buffer.shape[0]} is not a multiple of "
                             f"chunksize={chunksize}")
        if channel_names is None:
            channel_names = [f"chan{c}" for c in range(nb_channel)]
        super()._configure(buffer=buffer, sample_rate=1.0 / sample_interval, chunksize=chunksize,
                           dtype=buffer.dtype.str, channel_names=channel_names)
        self.nb_channel, self.sample_interval = int(nb_channel), float(sample_interval)
        self.buffer, self.length, self.channel_names = buffer, buffer.shape[0], list(channel_names)

    def _initialize(self) -> None:
        out = self.outputs["signals"]
        if out.params.get("streamtype") == "digitalsignal" and self.dtype.kind == "u":
            out.spec["streamtype"] = "digitalsignal"        # the same bytes, as a digital stream
        super()._initialize()


register_node_type(NumpyDeviceBuffer)
