"""SIGKILL a real writer process at random moments: the recording must always open with
every sealed block intact, equal to the source, the torn tail dropped, not committed."""
import os
import random
import selectors
import signal
import subprocess
import sys
import time

import pytest

from acqflow.storage import NotARecordingError, RecordingWriter, open_recording
from tests.storage.source import (EV_PARAMS, SIG_PARAMS, check_stream_data, first_chunk_at,
                                  write_chunks)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N_KILLS = 20


class WriterProcess:
    """tests/storage/writer_proc.py in a child process, read line by line with timeouts."""

    def __init__(self, path, mode, block_s, block_bytes, paced=True):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.storage.writer_proc", str(path), mode,
             str(block_s), str(block_bytes), "1" if paced else "0"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._buf = b""
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)

    def line(self, timeout=20.0) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not self._sel.select(left):
                pytest.fail(f"writer process silent for {timeout} s; stderr: "
                            f"{self.kill_and_stderr()}")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                pytest.fail(f"writer process exited: {self.kill_and_stderr()}")
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
        return self.proc.stderr.read().decode()[-2000:]


def test_random_sigkills(tmp_path):
    rng = random.Random(20240607)
    path = None
    for round_no in range(N_KILLS):
        append = path is not None and round_no % 3 == 2
        if not append:
            path = tmp_path / f"rec{round_no}"
        # Paced rounds are killed just after a seal; burst rounds while the next
        # (multi-MB) block is being written, to tear it.
        burst = round_no % 2 == 1
        block_s = rng.choice([0.005, 0.02, 0.05])
        block_bytes = rng.choice([2 << 20, 4 << 20]) if burst else rng.choice([2000, 20000])
        w = WriterProcess(path, "append" if append else "create", block_s, block_bytes,
                          paced=not burst)
        ready = w.line().split()
        assert ready[0] == "ready"
        sealed = (int(ready[1]), int(ready[2]))
        end = None
        for _ in range(rng.randint(1 if burst else 0, 4 if burst else 12)):
            word, _seq, sig, ev, seg, off = w.line().split()
            assert word == "sealed"
            sealed, end = (int(sig), int(ev)), (int(seg), int(off))
        if burst:
            seg_file = path / "segments" / f"{end[0]:06d}.afseg"
            next_file = path / "segments" / f"{end[0] + 1:06d}.afseg"
            deadline = time.monotonic() + 20
            while (seg_file.stat().st_size <= end[1] + rng.randint(0, 1 << 20)
                   and not next_file.exists() and time.monotonic() < deadline):
                pass  # condition: the next block is being written
        w.kill()

        rec = open_recording(path)
        assert not rec.committed
        assert rec.intact, rec.damage
        stops = check_stream_data(rec)
        assert stops[0] >= sealed[0] and stops[1] >= sealed[1], (stops, sealed)
        checked = open_recording(path, verify=True)
        assert checked.intact and checked.n_blocks == rec.n_blocks
        assert (checked["sig"].stop_index, checked["ev"].stop_index) == stops

    # The last (killed) recording can still be continued and closed cleanly.
    with RecordingWriter(path, "append", block_s=0.01) as w:
        w.add_stream("sig", SIG_PARAMS)
        w.add_stream("ev", EV_PARAMS)
        k = first_chunk_at(w.stream_stop("sig"))
        write_chunks(w, k, k + 40)
    rec = open_recording(path, verify=True)
    assert rec.committed and rec.intact and rec.torn_bytes == 0
    check_stream_data(rec)


def test_kill_before_ready(tmp_path):
    """Killed while creating: either no recording at all, or an empty valid one."""
    for k in range(2):
        path = tmp_path / f"early{k}"
        w = WriterProcess(path, "create", 0.01, 1 << 20)
        w.kill()
        try:
            rec = open_recording(path)
        except NotARecordingError:
            assert not path.exists()
        else:
            assert not rec.committed and rec.intact
            check_stream_data(rec) if "sig" in rec else None
