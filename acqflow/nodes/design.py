"""IIR filter design as second-order sections, shared by the filter nodes."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..dataflow.paramcheck import did_you_mean, int_in, must_be

__all__ = ["design_sos", "check_design", "impulse_length", "scipy_signal", "BTYPES", "FTYPES"]

BTYPES = ("lowpass", "highpass", "bandpass", "bandstop", "notch")
FTYPES = ("butter", "cheby1", "cheby2", "ellip", "bessel")


def scipy_signal():
    """scipy.signal, imported at first use: importing it takes 1-2 s, which ``import
    acqflow.nodes`` (and so every process and ``acqflow run``) should not pay."""
    import scipy.signal
    return scipy.signal


def design_sos(sample_rate: float, btype: str = "bandpass", freq: Any = None, order: int = 4,
               ftype: str = "butter", rp: float = 1.0, rs: float = 40.0, Q: float = 30.0,
               sos: Any = None) -> np.ndarray:
    """Second-order sections (float64, shape (n, 6)) for the given parameters.

    ``sos`` given explicitly wins; ``notch`` uses ``scipy.signal.iirnotch(freq, Q)``;
    the rest ``scipy.signal.iirfilter`` (``freq`` in Hz: a number, or [low, high]
    for band filters).  Bad values raise ValueError naming the parameter.
    """
    given, freqs = check_design(sample_rate, btype, freq, order, ftype, sos)
    if given is not None:
        return given
    if btype == "notch":
        b, a = scipy_signal().iirnotch(freqs[0], Q, fs=sample_rate)
        return scipy_signal().tf2sos(b, a)
    wn = freqs if len(freqs) == 2 else freqs[0]
    return scipy_signal().iirfilter(int(order), wn, rp=rp, rs=rs, btype=btype, ftype=ftype,
                                    output="sos", fs=sample_rate)


def check_design(sample_rate: float, btype: str = "bandpass", freq: Any = None, order: int = 4,
                 ftype: str = "butter", sos: Any = None) -> tuple[np.ndarray | None, np.ndarray]:
    """design_sos's checks, without scipy (``acqflow run --check`` runs them): ValueError
    naming the bad parameter; else (the explicit ``sos`` or None, the frequencies in Hz)."""
    if sos is not None:
        sos = np.array(sos, dtype=np.float64)
        if sos.ndim != 2 or sos.shape[1] != 6 or len(sos) == 0:
            raise ValueError(f"sos must have shape (n_sections, 6), got {sos.shape}")
        if not np.allclose(sos[:, 3], 1.0):
            raise ValueError(f"sos must have a0 == 1 in every section (column 3), got {sos[:, 3]}")
        return sos, np.zeros(0)
    nyq = sample_rate / 2.0
    if btype not in BTYPES:
        raise ValueError(f"btype={btype!r} is not one of {', '.join(BTYPES)}"
                         f"{did_you_mean(btype, BTYPES)}")
    if freq is None:
        raise ValueError(f"btype={btype!r} needs freq (Hz)")
    freqs = np.atleast_1d(np.asarray(freq, dtype=np.float64))
    need = 2 if btype in ("bandpass", "bandstop") else 1
    if freqs.shape != (need,):
        raise ValueError(f"btype={btype!r} needs {need} frequency(ies), got freq={freq!r}")
    if np.any(freqs <= 0) or np.any(freqs >= nyq) or (need == 2 and freqs[0] >= freqs[1]):
        must_be("freq", f"increasing and within (0, {nyq:g}) Hz (the Nyquist frequency of "
                f"sample_rate={sample_rate:g})", freq)
    if btype != "notch":
        if ftype not in FTYPES:
            raise ValueError(f"ftype={ftype!r} is not one of {', '.join(FTYPES)}"
                             f"{did_you_mean(ftype, FTYPES)}")
        int_in("order", order)
    return None, freqs


def impulse_length(sos: np.ndarray, tol: float = 1e-7, max_samples: int = 10_000_000) -> int:
    """Samples after which the impulse response (both directions of filtfilt) stays below ``tol``.

    ``tol`` is relative to the response's peak; computed from the poles' decay.
    """
    poles = np.concatenate([np.roots(s[3:]) for s in sos])
    radius = float(np.max(np.abs(poles))) if len(poles) else 0.0
    if radius >= 1.0:
        raise ValueError(f"filter is unstable (pole radius {radius:.6f} >= 1)")
    if radius <= 0.0:
        return 2 * len(sos) + 1
    # |h[n]| ~ C n^(m-1) r^n for m coincident poles: add a margin for the polynomial term
    n = int(np.ceil(np.log(tol) / np.log(radius)))
    n = int(n * 1.5) + 4 * len(sos)
    return min(n, max_samples)
