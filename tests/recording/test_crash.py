"""SIGKILL a real source -> Recorder process at random moments: the recording must always
open with every sealed block intact and equal to the source at the same absolute
indexes, the torn tail dropped, and committed False."""
import os
import random
import selectors
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from acqflow.nodes.recorder import Recorder
from acqflow.storage import open_recording
from tests.recording.common import make_outputs, send_chunks
from tests.storage.source import BOUNDS, analog, chunk_range, first_chunk_at, skipped

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N_KILLS = 12


class RecorderProcess:
    """tests/recording/recorder_proc.py in a child process, read line by line with timeouts."""

    def __init__(self, path, mode, block_s, block_bytes, paced=True):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.recording.recorder_proc", str(path), mode,
             str(block_s), str(block_bytes), "1" if paced else "0"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._buf = b""
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)

    def line(self, timeout=30.0) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not self._sel.select(left):
                pytest.fail(f"recorder process silent for {timeout} s: {self.kill_and_stderr()}")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                pytest.fail(f"recorder process exited: {self.kill_and_stderr()}")
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


def check_recording(rec, exact_gaps: bool = True) -> tuple[int, int]:
    """Stored samples equal the source at their absolute indexes, the source's skipped
    chunks are gaps, events are reference events in order; returns both stop indexes."""
    sig, ev = rec["sig"], rec["ev"]
    assert sig.sample_rate == 1000.0 and sig.units == "uV"
    assert [c["name"] for c in sig.channel_info] == [f"ch{c}" for c in range(16)]
    stop = sig.stop_index
    if stop:
        assert sig.first_index == 0
        for s, data in sig.chunks():
            np.testing.assert_array_equal(data, analog(s, s + len(data)))
        expected = []
        k = 0
        while BOUNDS[k] <= stop:
            if skipped(k):
                expected.append(chunk_range(k))
            k += 1
        if exact_gaps:
            assert sig.gaps == expected
        else:  # a burst may also overflow the writer queue: more gaps, never fewer
            for g0, g1 in expected:
                assert any(a <= g0 and g1 <= b for a, b in sig.gaps), (g0, g1)
    if ev.stop_index:
        assert ev.first_index == 0 and ev.gaps == []
        events = ev.read()
        ks = [int(label[1:]) for label in events["label"]]
        assert ks == sorted(set(ks)) and all(k % 5 == 0 and not skipped(k) for k in ks)
        assert list(events["index"]) == [int(BOUNDS[k]) for k in ks]
    return stop, ev.stop_index


def test_random_sigkills_of_recorder_process(tmp_path):
    rng = random.Random(7)
    path = None
    for round_no in range(N_KILLS):
        append = path is not None and round_no % 3 == 2
        if not append:
            path = tmp_path / f"rec{round_no}"
        # Paced rounds are killed after a random number of seals (0: right away);
        # burst rounds while a multi-MB block is being written, to tear it.
        burst = round_no % 2 == 1
        block_s = rng.choice([0.005, 0.02, 0.05])
        block_bytes = rng.choice([2 << 20, 4 << 20]) if burst else rng.choice([2000, 20000])
        w = RecorderProcess(path, "append" if append else "create", block_s, block_bytes,
                            paced=not burst)
        ready = w.line().split()
        assert ready[0] == "ready"
        sealed = (int(ready[1]), int(ready[2]))
        end = None
        for _ in range(rng.randint(1 if burst else 0, 3 if burst else 12)):
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
        stops = check_recording(rec, exact_gaps=not burst)
        assert stops[0] >= sealed[0] and stops[1] >= sealed[1], (stops, sealed)
        checked = open_recording(path, verify=True)
        assert checked.intact and checked.n_blocks == rec.n_blocks
        assert (checked["sig"].stop_index, checked["ev"].stop_index) == stops

    # The last killed recording continues with a Recorder in append mode and commits.
    sig_out, ev_out = make_outputs(protocol="inproc", backpressure="block")
    rec_node = Recorder()
    rec_node.configure(streams={"sig": sig_out, "ev": ev_out}, dirname=path, mode="append",
                       block_s=0.01)
    rec_node.initialize()
    k = first_chunk_at(rec_node.writer.stream_stop("sig"))
    rec_node.start()
    stop, _ = send_chunks(sig_out, None, k, k + 40)
    from acqflow.testing import wait_for
    wait_for(lambda: rec_node.writer.stream_stop("sig") >= stop, message="appended chunks")
    rec_node.close()
    sig_out.close()
    ev_out.close()
    rec = open_recording(path, verify=True)
    assert rec.committed and rec.intact and rec.torn_bytes == 0
    assert rec["sig"].stop_index == stop
    check_recording(rec, exact_gaps=False)
