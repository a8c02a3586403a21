"""StreamReader: an independent cursor over a stored stream (stream2py multi-reader idea).

Readers share the recording, its index and caches but keep their own position.
With ``follow=True`` a reader waits for blocks sealed after it was created, so
it can trail a recording that is still being written.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from .streamdata import StreamData

__all__ = ["StreamReader"]


class StreamReader:
    """Cursor with ``read()``/iteration returning ``(stop index, data)`` like a live input."""

    def __init__(self, stream: StreamData, start: int | None = None,
                 follow: bool = False, poll_interval: float = 0.02):
        self.stream = stream
        self.follow = follow
        self.poll_interval = float(poll_interval)
        self.pos = stream.first_index if start is None else int(start)
        self.gaps: list[tuple[int, int]] = []
        self.closed = False
        stream.n_readers += 1

    def tell(self) -> int:
        """Absolute index of the next sample to read."""
        return self.pos

    def seek(self, index: int) -> None:
        """Move the cursor to absolute ``index``."""
        self.pos = int(index)

    def _available(self) -> tuple[int, int] | None:
        """``(start, stop)`` of the stored run at or after pos, skipping gaps."""
        a = self.stream.record_table(self.pos)
        if not len(a["stop"]):
            return None
        start = max(int(a["start"][0]), self.pos)
        if start > self.pos:
            self.gaps.append((self.pos, start))
            self.pos = start
        return start, int(a["stop"][0])

    def _wait(self, timeout: float | None) -> tuple[int, int] | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            run = self._available()
            if run is not None or not self.follow:
                return run
            rec = self.stream.recording
            if rec.refresh():
                continue
            if rec.committed and self._available() is None:
                return None
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"no new data in {self.stream.name!r} within {timeout} s")
            time.sleep(self.poll_interval)  # polling the files is how a follower learns

    def read(self, n: int | None = None, timeout: float | None = None
             ) -> tuple[int, np.ndarray] | None:
        """Next contiguous piece: the rest of the current chunk, or at most ``n`` samples.

        Returns ``(stop index, data)``, or None at the end of a closed (or, without
        follow, current) recording.  Jumps over gaps, recording them in ``gaps``.
        Following readers raise TimeoutError after ``timeout`` s without data.
        """
        run = self._wait(timeout)
        if run is None:
            return None
        start, stop = run
        if n is not None:
            stop = min(stop, start + int(n))
        data = self.stream.read(start, stop)
        self.pos = stop
        return stop, data

    def __iter__(self) -> "StreamReader":
        return self

    def __next__(self) -> tuple[int, np.ndarray]:
        item = self.read()
        if item is None:
            raise StopIteration
        return item

    def __getitem__(self, key: Any) -> np.ndarray:
        return self.stream[key]

    def close(self) -> None:
        """Release the reader (the stream's ``n_readers`` drops)."""
        if not self.closed:
            self.closed = True
            self.stream.n_readers -= 1

    def __enter__(self) -> "StreamReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
