"""SIGKILL a real writer process at random moments: the recording must always open with
every sealed block intact, equal to the source, the torn tail dropped, not committed."""
import pytest

from acqflow.storage import NotARecordingError, RecordingWriter, open_recording
from tests.storage.sigkill import LineProcess, random_sigkills
from tests.storage.source import EV_PARAMS, SIG_PARAMS, check_stream_data, first_chunk_at, write_chunks

N_KILLS = 20


# 20 writer processes started, written to and killed: ~20 s idle, ~50 s beside two CPU hogs,
# past the suite's 120 s per test on a loaded CI machine.  A hang guard, not a deadline.
@pytest.mark.timeout(600)
def test_random_sigkills(tmp_path):
    path = random_sigkills(tmp_path, "tests.storage.writer_proc", N_KILLS, seed=20240607,
                           check=lambda rec, burst: check_stream_data(rec))

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
        w = LineProcess("tests.storage.writer_proc", path, "create", 0.01, 1 << 20)
        w.kill()
        try:
            rec = open_recording(path)
        except NotARecordingError:
            assert not path.exists()
        else:
            assert not rec.committed and rec.intact
            check_stream_data(rec) if "sig" in rec else None
