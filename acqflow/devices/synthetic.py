"""SyntheticSignal: a clock-paced test source (pyacq's NumpyDeviceBuffer, and more)."""
from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from ..dataflow.paramcheck import did_you_mean, int_in, must_be, positive_number
from ._base import DeviceNode, current_worker

__all__ = ["SyntheticSignal", "WAVEFORMS"]

WAVEFORMS = ("sine", "square", "noise", "buffer")


class SyntheticSignal(DeviceNode):
    """Generates a (time, channels) signal in real time on output ``signals``.

    Chunks are paced on absolute time since ``start()``: after ``t`` seconds exactly
    ``floor(t * sample_rate / chunksize)`` chunks have been sent, whatever the
    scheduling delays, so the rate never drifts.  Samples are a function of their
    absolute index, so the signal is continuous across stop()/start().
    """

    _output_specs = {"signals": {"streamtype": "analogsignal"}}

    def _configure(self, channels: int = 4, sample_rate: float = 1000.0, chunksize: int = 100,
                   waveform: str = "sine", frequencies: float | Sequence[float] | None = None,
                   amplitude: float = 1.0, buffer: np.ndarray | None = None,
                   dtype: str = "float32", seed: int | None = 0,
                   channel_names: Sequence[str] | None = None, units: str = "V") -> None:
        """Parameters:

        channels: number of channels (ignored when ``buffer`` is given: its 2nd axis).
        sample_rate: samples per second (> 0).  chunksize: samples per sent chunk.
        waveform: 'sine' (one frequency per channel), 'square', 'noise' (gaussian,
            ``seed``) or 'buffer' (``buffer`` looped; implied when a buffer is given).
        frequencies: Hz, one per channel or one for all (default: channel i at i+1 Hz).
        amplitude: peak value (noise: standard deviation), in units of ``dtype``.
        buffer: array (n,) or (n, channels) looped forever.  dtype: numeric numpy dtype.
        channel_names / units: carried in the stream's ``channel_info``.
        """
        if buffer is not None:
            waveform = "buffer"
        if waveform not in WAVEFORMS:
            raise ValueError(f"{self.name}: unknown waveform {waveform!r}{did_you_mean(waveform, WAVEFORMS)}; "
                             f"available: {', '.join(WAVEFORMS)}")
        try:
            dt = np.dtype(dtype)
        except TypeError:
            dt = None
        if dt is None or dt.kind not in "fiu":
            raise ValueError(f"{self.name}: dtype {dtype!r} is not numeric; use one of float32, "
                             f"float64, int16, int32, uint8, ...")
        positive_number(f"{self.name}: sample_rate", sample_rate)
        int_in(f"{self.name}: chunksize", chunksize)
        if waveform == "buffer":
            buf = self._check_buffer(buffer, dt)
            channels = buf.shape[1]
        else:
            buf = None
            int_in(f"{self.name}: channels", channels)
        channels = int(channels)
        freqs: np.ndarray | None
        if frequencies is None:
            freqs = np.arange(1, channels + 1, dtype=np.float64)
        else:
            freqs = np.broadcast_to(np.asarray(frequencies, dtype=np.float64), (channels,)).copy() \
                if np.ndim(frequencies) == 0 or np.size(frequencies) == channels else None
            if freqs is None:
                raise ValueError(f"{self.name}: {np.size(frequencies)} frequencies for {channels} "
                                 f"channels; give one per channel or a single value")
        if channel_names is not None and len(channel_names) != channels:
            raise ValueError(f"{self.name}: {len(channel_names)} channel_names for {channels} channels")
        names = list(channel_names) if channel_names is not None else [f"ch{i}" for i in range(channels)]
        info: list[dict[str, Any]] = [{"name": n, "units": units} for n in names]
        if waveform in ("sine", "square"):
            for d, f in zip(info, freqs):
                d["frequency"] = float(f)
        self.channels, self.sample_rate, self.chunksize = channels, float(sample_rate), int(chunksize)
        self.waveform, self.frequencies, self.amplitude = waveform, freqs, float(amplitude)
        self.dtype, self._buffer, self.seed = dt, buf, seed
        self._set_output_spec("signals", streamtype="analogsignal", dtype=dt.str,
                              shape=(-1, channels), sample_rate=self.sample_rate,
                              channel_info=info, units=units)

    def _check_buffer(self, buffer, dt: np.dtype) -> np.ndarray:
        buf = np.asarray(buffer)
        if buf.ndim == 1:
            buf = buf[:, np.newaxis]
        if buf.ndim != 2 or buf.shape[0] == 0 or buf.shape[1] == 0:
            must_be(f"{self.name}: buffer", "(n,) or (n, channels) with n > 0", buf)
        if not np.can_cast(buf.dtype, dt, casting="same_kind"):
            raise ValueError(f"{self.name}: buffer dtype {buf.dtype} cannot become dtype {dt}")
        return np.ascontiguousarray(buf, dtype=dt)

    # -- generation ----------------------------------------------------------
    def generate(self, start: int, n: int) -> np.ndarray:
        """Samples ``start`` to ``start + n - 1`` (absolute indexes) of the signal."""
        if self.waveform == "buffer":
            assert self._buffer is not None      # (configured with the waveform)
            rows = np.arange(start, start + n) % len(self._buffer)
            return self._buffer[rows]
        if self.waveform == "noise":
            out = self._rng.standard_normal((n, self.channels)) * self.amplitude
        else:
            cycles = np.outer(np.arange(start, start + n, dtype=np.float64) / self.sample_rate,
                              self.frequencies) % 1.0
            if self.waveform == "sine":
                out = self.amplitude * np.sin(2 * np.pi * cycles)
            else:
                out = np.where(cycles < 0.5, self.amplitude, -self.amplitude)
        if self.dtype.kind in "iu":
            info = np.iinfo(self.dtype)
            out = np.clip(np.rint(out), info.min, info.max)
        return out.astype(self.dtype)

    # -- life-cycle ----------------------------------------------------------
    def _initialize(self) -> None:
        self._check_outputs()
        self._rng = np.random.default_rng(self.seed)

    def _start(self) -> None:
        self._t0 = time.monotonic()
        self._sent = 0                      # samples sent since this start()
        self._base = self.outputs["signals"].index
        self.add_worker(self._step, "generator")

    def _step(self) -> None:
        out = self.outputs["signals"]
        due = int((time.monotonic() - self._t0) * self.sample_rate)
        while self._sent + self.chunksize <= due and not current_worker().stopping.is_set():
            start = self._base + self._sent
            out.send(self.generate(start, self.chunksize), index=start + self.chunksize)
            self._sent += self.chunksize
        wake = self._t0 + (self._sent + self.chunksize) / self.sample_rate
        delay = wake - time.monotonic()
        if delay > 0:
            current_worker().stopping.wait(delay)
