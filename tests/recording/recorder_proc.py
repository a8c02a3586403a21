"""A source -> Recorder pipeline in its own process, fed the reference signal until killed.

``python -m tests.recording.recorder_proc PATH MODE BLOCK_S BLOCK_BYTES PACED`` prints
``ready <sig stop> <ev stop>`` once recording, then one line ``sealed <seq> <sig sealed
stop> <ev sealed stop> <segment> <block end>`` per sealed block.  The source outputs
use backpressure='block', so the only gaps are the reference signal's own.  With
PACED=1 a short sleep per chunk emulates an acquisition device (it synchronises
nothing); PACED=0 sends as fast as the recorder takes it.
"""
import sys
import time

from acqflow.nodes.recorder import Recorder
from acqflow.storage import NotARecordingError, open_recording
from tests.recording.common import make_outputs
from tests.storage.source import analog, chunk_range, event, first_chunk_at, skipped


def last_event_chunk(path: str) -> int:
    """Chunk number of the last recorded event (-1 if none), to never send one twice."""
    try:
        rec = open_recording(path)
    except (NotARecordingError, FileNotFoundError):
        return -1
    if "ev" not in rec or not rec["ev"].stop_index:
        return -1
    return int(rec["ev"][-1]["label"][1:])


def main() -> None:
    path, mode = sys.argv[1], sys.argv[2]
    block_s, block_bytes = float(sys.argv[3]), int(sys.argv[4])
    paced = sys.argv[5] == "1"
    last_ev = last_event_chunk(path) if mode == "append" else -1
    sig, ev = make_outputs(backpressure="block")
    rec = Recorder(name="rec")

    def on_seal(info):
        st = rec.writer.stats()["streams"]
        sys.stdout.write(f"sealed {info.seq} {st['sig']['sealed_stop']} "
                         f"{st['ev']['sealed_stop']} {info.segment} {info.end}\n")
        sys.stdout.flush()

    rec.configure(streams={"sig": sig, "ev": ev}, dirname=path, mode=mode, block_s=block_s,
                  block_bytes=block_bytes, fsync="none", on_seal=on_seal)
    rec.initialize()
    sig_stop, ev_stop = rec.writer.stream_stop("sig"), rec.writer.stream_stop("ev")
    rec.start()
    sys.stdout.write(f"ready {sig_stop} {ev_stop}\n")
    sys.stdout.flush()
    k = first_chunk_at(sig_stop)
    while True:
        if not skipped(k):
            start, stop = chunk_range(k)
            sig.send(analog(start, stop), index=stop)
            if k % 5 == 0 and k > last_ev:
                ev_stop += 1
                ev.send(event(k), index=ev_stop)
        k += 1
        if paced:
            time.sleep(0.0005)


if __name__ == "__main__":
    main()
