"""The SIGKILL loop of the crash tests: a child process that writes the reference signal
(tests/storage/writer_proc.py, tests/recording/recorder_proc.py) is killed at random moments,
and every time the recording must open with every sealed block intact, the torn tail dropped,
not committed."""
from __future__ import annotations

import os
import random
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from acqflow.storage import open_recording
from acqflow.testing import wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class LineProcess:
    """``python -m MODULE PATH MODE BLOCK_S BLOCK_BYTES PACED`` in a child process, read line by
    line with timeouts (the protocol of writer_proc.py and recorder_proc.py)."""

    def __init__(self, module: str, path, mode: str, block_s: float, block_bytes: int,
                 paced: bool = True):
        self.module = module
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, str(path), mode, str(block_s), str(block_bytes),
             "1" if paced else "0"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._buf = b""
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)

    def line(self, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not self._sel.select(left):
                pytest.fail(f"{self.module} silent for {timeout} s; stderr: {self.kill_and_stderr()}")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                pytest.fail(f"{self.module} exited: {self.kill_and_stderr()}")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._sel.close()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def kill_and_stderr(self) -> str:
        self.proc.kill()
        return self.proc.stderr.read().decode()[-3000:]


def random_sigkills(tmp_path: Path, module: str, n_kills: int, seed: int,
                    check: Callable[..., tuple[int, int]], max_burst_seals: int = 4) -> Path:
    """Kill ``module`` ``n_kills`` times; after each kill the recording opens intact, holds at least
    what was reported sealed, and ``check(rec, burst)`` (the data equals the source; returns
    the (sig, ev) stops) holds, also after a full verify.  Every third round appends to the
    previous recording.  Returns the path of the last (killed, uncommitted) recording."""
    rng = random.Random(seed)
    path = None
    for round_no in range(n_kills):
        append = path is not None and round_no % 3 == 2
        if not append:
            path = tmp_path / f"rec{round_no}"
        # Paced rounds are killed after a random number of seals (0: right away);
        # burst rounds while the next (multi-MB) block is being written, to tear it.
        burst = round_no % 2 == 1
        block_s = rng.choice([0.005, 0.02, 0.05])
        block_bytes = rng.choice([2 << 20, 4 << 20]) if burst else rng.choice([2000, 20000])
        w = LineProcess(module, path, "append" if append else "create", block_s, block_bytes,
                        paced=not burst)
        ready = w.line().split()
        assert ready[0] == "ready"
        sealed = (int(ready[1]), int(ready[2]))
        end = None
        for _ in range(rng.randint(1 if burst else 0, max_burst_seals if burst else 12)):
            word, _seq, sig, ev, seg, off = w.line().split()
            assert word == "sealed"
            sealed, end = (int(sig), int(ev)), (int(seg), int(off))
        if burst:
            seg_file = path / "segments" / f"{end[0]:06d}.afseg"
            next_file = path / "segments" / f"{end[0] + 1:06d}.afseg"
            torn_at = end[1] + rng.randint(0, 1 << 20)
            wait_for(lambda: seg_file.stat().st_size > torn_at or next_file.exists(), timeout=120,
                     interval=0.001, message="the next block being written")
        w.kill()

        rec = open_recording(path)
        assert not rec.committed
        assert rec.intact, rec.damage
        stops = check(rec, burst)
        assert stops[0] >= sealed[0] and stops[1] >= sealed[1], (stops, sealed)
        checked = open_recording(path, verify=True)
        assert checked.intact and checked.n_blocks == rec.n_blocks
        assert (checked["sig"].stop_index, checked["ev"].stop_index) == stops
    return path
