"""Min/max decimation for drawing: per-pixel envelopes updated incrementally (numpy only).

Buckets of ``k`` samples are aligned on the absolute sample index, so as time
scrolls a bucket never changes once complete and each new sample is reduced
exactly once.  Drawing a bucket as a vertical segment from its min to its max
keeps one-sample spikes visible at any zoom.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["MinMaxEnvelope", "bucket_size"]


def bucket_size(window_samples: int, pixels: int) -> int:
    """Samples per bucket so that a window fits in about ``pixels`` buckets."""
    return max(1, math.ceil(max(1, int(window_samples)) / max(1, int(pixels))))


class MinMaxEnvelope:
    """Min and max of the newest ``nbuckets`` buckets of ``k`` samples, per channel.

    ``feed(data, start)`` adds samples ``start ..`` (absolute indexes); bucket ``b``
    (samples ``b*k .. b*k+k-1``) lives in slot ``b % nbuckets`` of ``mins``/``maxs``.
    Unseen buckets (before the first sample, or in a gap) are NaN.
    """

    def __init__(self, nchan: int, k: int, nbuckets: int):
        self.nchan, self.k, self.nbuckets = int(nchan), int(k), int(nbuckets)
        self.mins = np.full((self.nbuckets, self.nchan), np.nan, np.float32)
        self.maxs = np.full((self.nbuckets, self.nchan), np.nan, np.float32)
        self.next: int | None = None          # absolute index of the next expected sample

    @property
    def window(self) -> int:
        """Samples covered by all the buckets."""
        return self.k * self.nbuckets

    def reset(self, start: int) -> None:
        """Forget everything; the next sample expected is ``start``."""
        self.mins.fill(np.nan)
        self.maxs.fill(np.nan)
        self.next = int(start)

    def _clear(self, b0: int, b1: int) -> None:
        """Mark buckets [b0, b1) as unseen."""
        if b1 - b0 >= self.nbuckets:
            self.mins.fill(np.nan)
            self.maxs.fill(np.nan)
        elif b1 > b0:
            idx = np.arange(b0, b1) % self.nbuckets
            self.mins[idx] = np.nan
            self.maxs[idx] = np.nan

    def feed(self, data: np.ndarray, start: int) -> None:
        """Reduce samples ``data`` (time, channels) that start at absolute index ``start``."""
        n, k = len(data), self.k
        if n == 0:
            return
        if self.next is None or start < self.next or start - self.next >= self.window:
            self.reset(start - start % k)
        elif start > self.next:                  # a gap: buckets entirely in it are unseen
            self._clear(-(-self.next // k), start // k)
        if n > self.window:                      # only the newest window can be shown
            cut = n - self.window
            data, start, n = data[cut:], start + cut, n - cut
        first_b = start // k
        assert self.next is not None             # (reset() or the last feed set it)
        fresh = start % k == 0 or self.next <= first_b * k   # first bucket not begun yet
        i = 0
        if start % k:                                # finish the partial first bucket
            i = min(n, k - start % k)
            self._put(first_b, data[:i].min(0), data[:i].max(0), combine=not fresh)
        full = (n - i) // k
        if full:
            block = data[i:i + full * k].reshape(full, k, self.nchan)
            slots = np.arange(first_b + (1 if i else 0), first_b + (1 if i else 0) + full) % self.nbuckets
            self.mins[slots] = block.min(1)
            self.maxs[slots] = block.max(1)
            i += full * k
        if i < n:                                    # a new partial last bucket
            self._put((start + i) // k, data[i:].min(0), data[i:].max(0), combine=False)
        self.next = start + n

    def _put(self, b: int, lo: np.ndarray, hi: np.ndarray, combine: bool) -> None:
        s = b % self.nbuckets
        if combine:
            np.fmin(self.mins[s], lo, out=self.mins[s])
            np.fmax(self.maxs[s], hi, out=self.maxs[s])
        else:
            self.mins[s] = lo
            self.maxs[s] = hi

    def last_bucket(self) -> int:
        """Absolute number of the newest (possibly partial) bucket."""
        return (self.next - 1) // self.k if self.next else -1

    def scroll_order(self) -> np.ndarray:
        """Slots from the oldest bucket to the newest (for scroll mode)."""
        newest = self.last_bucket()
        return np.arange(newest - self.nbuckets + 1, newest + 1) % self.nbuckets

    def range(self) -> tuple[np.ndarray, np.ndarray]:
        """Per channel min and max over the seen buckets (NaN for a channel never seen)."""
        with np.errstate(all="ignore"):
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return np.nanmin(self.mins, 0), np.nanmax(self.maxs, 0)
