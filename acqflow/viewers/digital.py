"""DigitalOscilloscope: the bits of a digital (packed uint8) stream as lanes of 0/1 traces."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .oscilloscope import Oscilloscope

__all__ = ["DigitalOscilloscope"]


class DigitalOscilloscope(Oscilloscope):
    """Each bit of input ``signals`` (digitalsignal, uint8 (time, bytes), LSB first) in its lane.

    Bit ``b`` is bit ``b % 8`` of byte ``b // 8`` (as DigitalTrigger numbers them).
    Parameters: ``bits`` (which bits to show, default all), and the Oscilloscope's
    ``xsize``, ``mode``, ``max_points``, ``colors``, ``show_panel``...  Lane names
    come from ``channel_info`` (one entry per bit, or per byte: ``name.bit``).
    A lane is drawn low at 0 and high at 1 (lane centre -+ 0.3), min/max decimated like any trace,
    so a pulse one sample long stays visible.
    """

    _input_specs: dict[str, dict] = {"signals": {"streamtype": ("digitalsignal",), "ndim": 2}}
    scalable = False

    def _configure_viewer(self, bits: Sequence[int] | None = None,  # type: ignore[override]  # bits first; the rest forwarded by keyword
                          auto_scale: bool = False, **kwargs: Any) -> None:
        super()._configure_viewer(auto_scale=auto_scale, **kwargs)
        self.auto_scale_on = False
        self.bits = None if bits is None else [int(b) for b in bits]

    def _bit_list(self) -> list[int]:
        nbits = int(self.stream_params["shape"][1]) * 8
        bits = list(range(nbits)) if self.bits is None else self.bits
        bad = [b for b in bits if not 0 <= b < nbits]
        if bad:
            raise ValueError(f"{self.name}: bits {bad} are not within the stream's {nbits} bits")
        return bits

    def n_lanes(self) -> int:
        return len(self._bit_list())

    def lane_names(self) -> list[str]:
        """A label per shown bit: its channel_info name, 'byte.bit', or bitN."""
        info = self.stream_params.get("channel_info")
        nbytes = int(self.stream_params["shape"][1])
        names = []
        for b in self._bit_list():
            name = None
            if isinstance(info, list) and len(info) == nbytes * 8 and isinstance(info[b], dict):
                name = info[b].get("name")
            elif isinstance(info, list) and len(info) == nbytes and isinstance(info[b // 8], dict) \
                    and info[b // 8].get("name"):
                name = f"{info[b // 8]['name']}.{b % 8}"
            names.append(str(name) if name else f"bit{b}")
        return names

    def make_widget(self):
        self._bits = np.asarray(self._bit_list())
        n = len(self._bits)
        if self._init_gains is None:
            self._init_gains = [0.6] * n
        if self._init_offsets is None:
            self._init_offsets = list(n - 1 - np.arange(n) - 0.3)
        widget = super().make_widget()
        self._centres = self.offsets + 0.3
        self._apply_layout()
        return widget

    def transform(self, data: np.ndarray) -> np.ndarray:
        bits = np.unpackbits(np.ascontiguousarray(data), axis=1, bitorder="little")
        return bits[:, self._bits]

    def auto_scale(self) -> None:
        """Lanes have a fixed scale: re-stack the visible bits."""
        vis = np.flatnonzero(self.visible)
        centres = np.zeros(len(self.gains))
        centres[vis] = len(vis) - 1 - np.arange(len(vis))
        self.gains[:] = 0.6
        self.offsets = centres - 0.3
        self._centres = centres
        self._apply_layout()
        self._redraw()

    def set_channel(self, channel: int, visible: bool | None = None, gain: float | None = None,
                    offset: float | None = None) -> None:
        super().set_channel(channel, visible, gain, offset)
        if visible is not None:
            self.auto_scale()
