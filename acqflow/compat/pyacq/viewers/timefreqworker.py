"""pyacq's ``TimeFreqWorker`` and ``generate_wavelet_fourier`` (``pyacq.viewers.qtimefreq``).

pyacq's QTimeFreq ran one TimeFreqWorker per channel, in its process or in friend node
groups; acqflow's QTimeFreq computes every map in one TimeFrequency node, so the worker is
kept only for code that drives one directly: ``on_fly_change_wavelet(...)`` sets the
wavelets (in the Fourier domain, as ``generate_wavelet_fourier`` makes them), then each
``compute_one_map(head)`` returns the map of the ``sig_chunk_size`` samples ending at
``head`` (decimated by ``downsample_factor`` after the ``filter_b``/``filter_a`` low-pass):
a (plot_length, n_freqs) float32 amplitude map.  Its ``timefreq`` output (pyacq's, where
maps went to the viewer through shared memory) is kept for the API and sends nothing.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.signal

from ....dataflow.graph.registry import register_node_type
from ....nodes.timefreq import morlet_kernels
from ..core.node import Node

__all__ = ["TimeFreqWorker", "generate_wavelet_fourier"]


def generate_wavelet_fourier(len_wavelet: int, f_start: float, f_stop: float, deltafreq: float,
                             sample_rate: float, f0: float, normalisation: float) -> np.ndarray:
    """Morlet wavelets for ``arange(f_start, f_stop, deltafreq)`` Hz in the Fourier domain,
    (len_wavelet, n_freqs) complex; each scaled by ``f ** normalisation`` (0: amplitudes)."""
    freqs = np.arange(f_start, f_stop, deltafreq)
    if not len(freqs) or len_wavelet < 1 or sample_rate <= 0:
        raise ValueError(f"no wavelet for f_start={f_start!r}, f_stop={f_stop!r}, "
                         f"deltafreq={deltafreq!r}, len_wavelet={len_wavelet!r}")
    kernels, half = morlet_kernels(freqs, sample_rate, f0)
    kernels = kernels[:, max(0, half - len_wavelet // 2):half + len_wavelet // 2 + 1]
    wf = np.fft.fft(np.fft.ifftshift(_pad(kernels, len_wavelet), axes=1), axis=1)
    return (wf * (freqs[:, None] ** normalisation)).T


def _pad(kernels: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((kernels.shape[0], n), complex)
    k = min(n, kernels.shape[1])
    start = (n - k) // 2
    out[:, start:start + k] = kernels[:, :k]
    return out


class TimeFreqWorker(Node):
    """``configure(max_xsize=60., channel=0, local=True)``; input ``signals``, output ``timefreq``."""

    _input_specs = {"signals": {}}
    _output_specs = {"timefreq": {}}

    def _configure(self, max_xsize: float = 60., channel: int = 0, local: bool = True) -> None:
        self.max_xsize, self.channel, self.local = float(max_xsize), int(channel), bool(local)
        self.wavelet_fourrier: np.ndarray | None = None
        self.output.spec.update(streamtype="analogsignal", dtype="float32", shape=(-1, 1))

    def _initialize(self) -> None:
        self.sample_rate = float(self.input.params["sample_rate"])
        self.input.set_buffer(size=max(2, int(self.max_xsize * self.sample_rate)))

    def _start(self) -> None:
        """Nothing runs by itself: maps are made by compute_one_map()."""

    def _stop(self) -> None:
        """Nothing to stop."""

    def _close(self) -> None:
        """Nothing to release."""

    def on_fly_change_wavelet(self, wavelet_fourrier: np.ndarray, downsample_factor: int,
                              sig_chunk_size: int, plot_length: int, filter_a: np.ndarray,
                              filter_b: np.ndarray, **kwargs: Any) -> None:
        """Use these wavelets (len, n_freqs) and decimation from now on."""
        self.wavelet_fourrier = np.asarray(wavelet_fourrier)
        self.downsample_factor, self.sig_chunk_size = int(downsample_factor), int(sig_chunk_size)
        self.plot_length = int(plot_length)
        self.filter_a, self.filter_b = np.asarray(filter_a), np.asarray(filter_b)

    def compute_one_map(self, head: int) -> np.ndarray | None:
        """The map of the samples ending at ``head``; None if the wavelets are not set or
        those samples are no longer (or not yet) in the ring."""
        if self.wavelet_fourrier is None:
            return None
        while self.input.poll(0):
            self.input.recv()
        try:
            sig = np.asarray(self.input[max(0, head - self.sig_chunk_size):head], np.float64)
        except IndexError:
            return None
        sig = scipy.signal.lfilter(self.filter_b, self.filter_a, sig[:, self.channel])
        small = sig[::self.downsample_factor]
        n = self.wavelet_fourrier.shape[0]
        spectrum = np.fft.fft(small, n)
        amplitude = np.abs(np.fft.ifft(spectrum[:, None] * self.wavelet_fourrier, axis=0))
        return amplitude[max(0, len(small) - self.plot_length):len(small)].astype("float32")


register_node_type(TimeFreqWorker)
