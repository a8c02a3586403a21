"""Synthetic devices sharing a sync line, written as one recording (tests/storage/test_align.py).

Each device samples at its nominal rate times ``1 + ppm * 1e-6`` from its own start time;
the recorder stamps each chunk with the host (true) time of its last sample plus a fixed
latency and Gaussian jitter.  Times are seconds since ``EPOCH`` on the host clock.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acqflow.storage import RecordingWriter

EPOCH = 1.7e9


@dataclass
class Device:
    """One simulated device and how its sync line is recorded."""

    name: str
    rate: float
    ppm: float
    t0: float                  # true time of its sample 0, s after EPOCH
    latency: float             # s added to every host stamp
    jitter: float              # s, SD of the host stamps
    chunk: int                 # samples per written chunk
    kind: str      # 'digital' (bit 3 of a uint8), 'analog' (ch 'sync' of 2), 'video' (1 ch
    #                brightness), 'frames' (8x8 uint8 video frames lit by the pulse)
    pause: tuple[int, float] | None = None     # (index, s): stopped that long before it

    def true_time(self, i: np.ndarray) -> np.ndarray:
        """True time (s after EPOCH) of samples ``i``."""
        i = np.asarray(i, float)
        t = self.t0 + i / (self.rate * (1 + self.ppm * 1e-6))
        return t if self.pause is None else t + (i >= self.pause[0]) * self.pause[1]

    def index_of(self, t: np.ndarray) -> np.ndarray:
        """Fractional sample index at true time ``t``."""
        return (np.asarray(t, float) - self.t0) * self.rate * (1 + self.ppm * 1e-6)

    @property
    def line(self) -> str:
        return {"digital": f"{self.name}:0:3", "analog": f"{self.name}:sync",
                "video": f"{self.name}:0", "frames": f"{self.name}:mean"}[self.kind]


def pulse_train(duration: float, rng: np.random.Generator) -> np.ndarray:
    """Rising-edge times at random intervals of 0.5-1.5 s, from 2 s to ``duration`` - 2 s."""
    p = 1.0 + np.cumsum(rng.uniform(0.5, 1.5, int(duration) + 2))
    return p[(p > 2) & (p < duration - 2)]


def _high_time(t: np.ndarray, starts: np.ndarray, width: float) -> np.ndarray:
    """Total time the line was high before ``t``."""
    done = np.searchsorted(starts + width, t, "right")
    k = np.searchsorted(starts, t, "right") - 1
    part = np.where((k >= 0) & (k >= done), t - starts[np.maximum(k, 0)], 0.0)
    return done * width + np.clip(part, 0, width)


def line_values(dev: Device, n: int, starts: np.ndarray, width: float,
                rng: np.random.Generator) -> np.ndarray:
    """The recorded samples of ``dev`` (its sync line, plus a noise channel or noise bits)."""
    t = dev.true_time(np.arange(n))
    if dev.kind in ("video", "frames"):   # brightness: the exposure (one frame period) lit
        dt = 1 / dev.rate
        lit = (_high_time(t, starts, width) - _high_time(t - dt, starts, width)) / dt
        if dev.kind == "frames":
            pixels = 50 + 100 * lit[:, None, None] + rng.normal(0, 8, (n, 8, 8))
            return np.clip(pixels, 0, 255).astype(np.uint8)
        return (50 + 100 * lit + rng.normal(0, 2, n)).astype(np.float32)[:, None]
    k = np.searchsorted(starts, t, "right") - 1
    high = (k >= 0) & (t < starts[np.maximum(k, 0)] + width)
    if dev.kind == "digital":
        noise = rng.integers(0, 2, n, dtype=np.uint8)        # bit 0 toggles at random
        return (noise | (high.astype(np.uint8) << 3))[:, None]
    out = np.empty((n, 2), np.float32)
    out[:, 0] = rng.normal(0, 10, n)
    out[:, 1] = 5 * high + rng.normal(0, 0.05, n)
    return out


def write_devices(path, devices: list[Device], duration: float, starts: np.ndarray,
                  width: float, seed: int = 1, drop: dict[str, np.ndarray] | None = None,
                  extra: dict[str, np.ndarray] | None = None) -> None:
    """Write each device's recording over ``duration`` s (true time) into one recording.
    ``drop``: per device, pulses (rising times) its line does not see; ``extra``: pulses
    only its line sees."""
    rng = np.random.default_rng(seed)
    with RecordingWriter(path, queue_chunks=1 << 20, queue_bytes=1 << 31) as w:
        for dev in devices:
            params = {"digital": dict(streamtype="digitalsignal", dtype="uint8", shape=(-1, 1)),
                      "analog": dict(streamtype="analogsignal", dtype="float32", shape=(-1, 2),
                                     channel_info=[{"name": "eeg"}, {"name": "sync"}]),
                      "video": dict(streamtype="analogsignal", dtype="float32", shape=(-1, 1)),
                      "frames": dict(streamtype="video", dtype="uint8", shape=(-1, 8, 8)),
                      }[dev.kind]
            w.add_stream(dev.name, sample_rate=dev.rate, **params)
            seen = starts
            if drop and dev.name in drop:
                seen = np.setdiff1d(starts, drop[dev.name])
            if extra and dev.name in extra:
                seen = np.union1d(seen, extra[dev.name])
            n = int((duration - dev.t0 - (dev.pause[1] if dev.pause else 0)) * dev.rate)
            values = line_values(dev, n, seen, width, rng)
            stops = np.arange(dev.chunk, n + 1, dev.chunk)
            stamps = EPOCH + dev.true_time(stops - 1) + dev.latency + rng.normal(0, dev.jitter,
                                                                                 len(stops))
            for stop, t in zip(stops, stamps):
                w.write(dev.name, values[stop - dev.chunk:stop], timestamp=float(t))
