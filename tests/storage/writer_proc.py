"""A recording writer in its own process, fed the reference signal until killed.

``python -m tests.storage.writer_proc PATH MODE BLOCK_S BLOCK_BYTES PACED`` prints
``ready <sig stop> <ev stop>`` once the recording exists, then one line
``sealed <seq> <sig sealed stop> <ev sealed stop> <segment> <block end>`` per
sealed block.  With PACED=1 a short sleep per chunk emulates an acquisition
device (it synchronises nothing); PACED=0 writes as fast as possible.
"""
import sys
import time

from acqflow.storage import RecordingWriter
from tests.storage.source import (EV_PARAMS, SIG_PARAMS, first_chunk_at, write_chunks)


def main() -> None:
    path, mode = sys.argv[1], sys.argv[2]
    block_s, block_bytes = float(sys.argv[3]), int(sys.argv[4])
    paced = sys.argv[5] == "1"
    w = None

    def on_seal(info):
        st = w.stats()["streams"]
        sys.stdout.write(f"sealed {info.seq} {st['sig']['sealed_stop']} "
                         f"{st['ev']['sealed_stop']} {info.segment} {info.end}\n")
        sys.stdout.flush()

    w = RecordingWriter(path, mode, block_s=block_s, block_bytes=block_bytes, fsync="none",
                        on_seal=on_seal)
    w.add_stream("sig", SIG_PARAMS)
    w.add_stream("ev", EV_PARAMS)
    k = first_chunk_at(w.stream_stop("sig"))
    sys.stdout.write(f"ready {w.stream_stop('sig')} {w.stream_stop('ev')}\n")
    sys.stdout.flush()
    while True:
        write_chunks(w, k, k + 1)
        k += 1
        if paced:
            time.sleep(0.0005)


if __name__ == "__main__":
    main()
