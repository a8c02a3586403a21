"""TimeFrequency: Morlet wavelet amplitude of selected channels, as a down-sampled stream.

The transform is a convolution with complex Morlet wavelets truncated at
+-``n_sigma`` envelope widths, done for all frequencies and channels at once
with numpy FFTs over a window that slides along the stream.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from ..dataflow import paramcheck as check

from .base import StreamNode, seconds_to_samples

__all__ = ["TimeFrequency", "morlet_kernels"]

_BLOCK_ELEMENTS = 1 << 22        # complex values per inverse-FFT batch (64 MiB)


def morlet_kernels(freqs: Sequence[float] | np.ndarray, sample_rate: float, f0: float = 2.5,
                   n_sigma: float = 3.0) -> tuple[np.ndarray, int]:
    """Complex Morlet kernels (n_freqs, 2 half + 1), centred, and ``half``.

    Envelope sigma is ``f0 / f`` seconds (``f0`` periods); each kernel is scaled
    so that a sinusoid of amplitude A at its frequency gives a magnitude of A.
    """
    fr = np.asarray(freqs, np.float64)
    half = int(np.ceil(n_sigma * f0 / fr.min() * sample_rate))
    t = np.arange(-half, half + 1) / sample_rate
    sigma = f0 / fr[:, None]
    env = np.exp(-0.5 * (t[None, :] / sigma) ** 2)
    env[np.abs(t)[None, :] > n_sigma * sigma] = 0.0
    kernels = env * np.exp(2j * np.pi * fr[:, None] * t[None, :])
    return kernels * (2.0 / env.sum(axis=1, keepdims=True)), half


class TimeFrequency(StreamNode):
    """Morlet wavelet spectrogram of selected channels, as a stream for the viewer.

    Parameters: ``channels`` ([0]), frequencies ``f_start``, ``f_stop``,
    ``deltafreq`` (Hz; or an explicit ``freqs`` list), ``f0`` (2.5: envelope
    sigma in periods), ``n_sigma`` (3: truncation), ``out_rate`` (Hz, 100: the
    output is decimated by ``round(sample_rate / out_rate)``), ``hop`` (s of
    input per computation; None: the wavelet half-length), ``output``
    ('amplitude' | 'power').

    Output: analogsignal (-1, len(channels) * n_freqs) float32, channel-major
    (column ``c * n_freqs + k`` is channel ``channels[c]`` at ``freqs[k]``);
    params ``freqs``, ``tf_channels`` and ``sample_rate = input rate / factor``.
    Output sample ``k`` is input sample ``k * factor``.
    Delay: a sample is computed once ``delay`` (the wavelet half-length of the
    lowest frequency) later samples have arrived, so it leaves ``delay`` to
    ``delay + hop`` samples late.  Gap policy: each gap-free segment is
    transformed as if zero-padded at both ends (edge effects within ``delay``
    samples of a gap); the gap maps to an output gap.  End of stream flushes.
    """

    def _configure(self, channels: Sequence[int] = (0,), f_start: float = 3.0, f_stop: float = 90.0,
                   deltafreq: float = 3.0, freqs: Sequence[float] | None = None, f0: float = 2.5,
                   n_sigma: float = 3.0, out_rate: float = 100.0, hop: float | None = None,
                   output: str = "amplitude") -> None:
        channels = [int(c) for c in channels]
        if not channels or min(channels) < 0:
            check.must_be("channels", "a non-empty list of channel numbers", channels)
        if freqs is None:
            if not 0 < f_start < f_stop or not deltafreq > 0:
                raise ValueError(f"need 0 < f_start < f_stop and deltafreq > 0, got "
                                 f"{f_start!r}, {f_stop!r}, {deltafreq!r}")
        fr = np.asarray(np.arange(f_start, f_stop, deltafreq) if freqs is None else freqs, np.float64)
        if fr.ndim != 1 or not len(fr) or np.any(fr <= 0):
            check.must_be("freqs", "a non-empty list of positive frequencies", fr)
        check.one_of("amplitude", "power")("output", output)
        for key, value in (("f0", f0), ("n_sigma", n_sigma), ("out_rate", out_rate), ("hop", hop)):
            if value is not None or key != "hop":
                check.positive_number(key, value)
        self.channels, self.freqs, self.f0, self.n_sigma = channels, fr, float(f0), float(n_sigma)
        self.out_rate, self._hop_s, self.output_kind = float(out_rate), hop, output

    def _factor(self, input_params: dict) -> int:
        return max(1, int(round(float(input_params["sample_rate"]) / self.out_rate)))

    def validate(self, input_params: dict) -> None:
        fs, n = float(input_params["sample_rate"]), input_params["shape"][1]
        bad = [c for c in self.channels if c >= n]
        if bad:
            raise ValueError(f"channels {bad} are not within the input's {n} channels")
        if self.freqs.max() >= fs / 2:
            raise ValueError(f"freqs up to {self.freqs.max():g} Hz reach the Nyquist frequency "
                             f"{fs / 2:g} Hz of the input")

    def output_params(self, input_params: dict) -> dict:
        fs = float(input_params["sample_rate"])
        info = input_params.get("channel_info")
        names = [info[c].get("name", f"ch{c}") if isinstance(info, list) and c < len(info)
                 and isinstance(info[c], dict) else f"ch{c}" for c in self.channels]
        return {"streamtype": "analogsignal", "dtype": "float32",
                "shape": (-1, len(self.channels) * len(self.freqs)),
                "sample_rate": fs / self._factor(input_params),
                "freqs": [float(f) for f in self.freqs], "tf_channels": list(self.channels),
                "channel_info": [{"name": f"{n} {f:g}Hz"} for n in names for f in self.freqs]}

    def _initialize(self) -> None:
        fs = self.sample_rate
        self.q = self._factor(self.input_params)
        kernels, self.delay = morlet_kernels(self.freqs, fs, self.f0, self.n_sigma)
        self._kernels = kernels
        self.hop = max(self.delay, 1) if self._hop_s is None else max(1, seconds_to_samples(self._hop_s, fs))
        self._spectra: dict[int, np.ndarray] = {}
        super()._initialize()

    @property
    def delay_s(self) -> float:
        """Delay (s) of the output behind the input: half the longest wavelet."""
        return self.delay / self.sample_rate

    def _kernel_fft(self, nfft: int) -> np.ndarray:
        """FFT of the kernels laid out circularly (centre at 0), cached per size."""
        if nfft not in self._spectra:
            h = self.delay
            buf = np.zeros((len(self.freqs), nfft), np.complex128)
            buf[:, :h + 1] = self._kernels[:, h:]
            buf[:, nfft - h:] = self._kernels[:, :h]
            if len(self._spectra) > 8:
                self._spectra.clear()
            self._spectra[nfft] = np.fft.fft(buf, axis=1)
        return self._spectra[nfft]

    def reset(self) -> None:
        # segment buffer, with `delay` virtual zeros before the segment's first sample
        self._buf: np.ndarray | None = None
        self._buf_start = 0      # absolute index of _buf[0]
        self._done = 0           # absolute index up to which output was computed

    def process(self, index: int, data: np.ndarray) -> None:
        x = np.asarray(data[:, self.channels], np.float64)
        if self._buf is None:
            start = index - len(data)
            self._buf = np.zeros((self.delay, len(self.channels)))
            self._buf_start, self._done = start - self.delay, start
        self._buf = np.concatenate([self._buf, x])
        end = self._buf_start + len(self._buf)
        if end - self.delay - self._done >= self.hop:
            self._compute(end - self.delay)

    def _compute(self, stop: int) -> None:
        """Output for input samples [_done, stop); the buffer reaches stop + delay."""
        h, start = self.delay, self._done
        assert self._buf is not None     # (process() made it)
        first = start - h - self._buf_start
        window = self._buf[first:stop + h - self._buf_start]
        keep = np.arange(-(-start // self.q) * self.q, stop, self.q)   # absolute, multiples of q
        if len(keep):
            nfft = _fast_len(len(window))
            spec = np.fft.fft(window, n=nfft, axis=0)                  # (nfft, C)
            kf, rows = self._kernel_fft(nfft), keep - start + h
            mag = np.empty((len(self.freqs), len(keep), spec.shape[1]))  # (F, n, C)
            step = max(1, _BLOCK_ELEMENTS // (nfft * spec.shape[1]))   # bound the memory
            for f in range(0, len(self.freqs), step):
                conv = np.fft.ifft(kf[f:f + step, :, None] * spec[None], axis=1)
                mag[f:f + step] = np.abs(conv[:, rows, :])
            if self.output_kind == "power":
                mag **= 2
            out = np.ascontiguousarray(mag.transpose(1, 2, 0), np.float32).reshape(len(keep), -1)
            self.emit(out, -(-stop // self.q))
        self._done = stop
        drop = stop - h - self._buf_start
        self._buf = self._buf[drop:]
        self._buf_start += drop

    def _flush(self) -> None:
        if self._buf is not None:
            end = self._buf_start + len(self._buf)
            if end > self._done:
                self._buf = np.concatenate([self._buf, np.zeros((self.delay, len(self.channels)))])
                self._compute(end)

    def on_gap(self, stop: int, start: int) -> None:
        self._flush()
        self.reset()

    def on_end(self) -> None:
        self._flush()


def _fast_len(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n (a fast FFT size)."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best
