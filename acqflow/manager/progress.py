"""`acqflow run`'s start-up steps, told as they begin: the seconds before the first table
(spawning processes, connecting) are never silent."""
from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["StartupProgress"]


class StartupProgress:
    """Prints each step on ``stream`` (stderr): one line per step, or on a terminal one
    status line rewritten in place.  ``done(text)`` ends it with a last line."""

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None, prefix: str = "acqflow run"):
        self.stream = stream or sys.stderr
        self.tty = _isatty(self.stream) if tty is None else tty
        self.prefix = prefix
        self.t0 = time.monotonic()
        self._open = False          # a status line without its newline yet (terminal)

    def elapsed(self) -> float:
        """Seconds since the progress began."""
        return time.monotonic() - self.t0

    def __call__(self, text: str) -> None:
        self._write(f"{self.prefix}: {text}...", final=False)

    def done(self, text: str) -> None:
        """The last line (e.g. 'started 3 nodes in 2.1 s'), always kept on screen."""
        self._write(f"{self.prefix}: {text}", final=True)

    def close(self) -> None:
        """End a status line left open (before an error is printed)."""
        if self._open:
            self._emit("\n")
            self._open = False

    def _write(self, line: str, final: bool) -> None:
        if self.tty:
            self._emit("\r\x1b[K" + line + ("\n" if final else ""))
            self._open = not final
        else:
            self._emit(line + "\n")

    def _emit(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):     # a closed or broken stderr: progress is best effort
            pass


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
