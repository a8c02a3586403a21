"""SIGKILL a real source -> Recorder process at random moments: the recording must always
open with every sealed block intact and equal to the source at the same absolute
indexes, the torn tail dropped, and committed False."""
import numpy as np
import pytest

from acqflow.nodes.recorder import Recorder
from acqflow.storage import open_recording
from acqflow.testing import wait_for
from tests.recording.common import make_outputs, send_chunks
from tests.storage.sigkill import random_sigkills
from tests.storage.source import BOUNDS, analog, chunk_range, first_chunk_at, skipped

N_KILLS = 12


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


@pytest.mark.timeout(600)      # a hang guard: ~15 s idle, several times that on a loaded CI machine
def test_random_sigkills_of_recorder_process(tmp_path):
    path = random_sigkills(tmp_path, "tests.recording.recorder_proc", N_KILLS, seed=7, max_burst_seals=3,
                           check=lambda rec, burst: check_recording(rec, exact_gaps=not burst))

    # The last killed recording continues with a Recorder in append mode and commits.
    sig_out, ev_out = make_outputs(protocol="inproc", backpressure="block")
    rec_node = Recorder()
    rec_node.configure(streams={"sig": sig_out, "ev": ev_out}, dirname=path, mode="append",
                       block_s=0.01)
    rec_node.initialize()
    k = first_chunk_at(rec_node.writer.stream_stop("sig"))
    rec_node.start()
    stop, _ = send_chunks(sig_out, None, k, k + 40)
    wait_for(lambda: rec_node.writer.stream_stop("sig") >= stop, message="appended chunks")
    rec_node.close()
    sig_out.close()
    ev_out.close()
    rec = open_recording(path, verify=True)
    assert rec.committed and rec.intact and rec.torn_bytes == 0
    assert rec["sig"].stop_index == stop
    check_recording(rec, exact_gaps=False)
