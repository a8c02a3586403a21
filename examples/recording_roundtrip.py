"""Record a live signal, read it back, and replay it twice as fast into a live input.

synthetic source -> Recorder -> open_recording (slicing, gaps, times) -> Player
(rate=2) -> InputStream: the replay carries the same samples at the same absolute
indexes, with the lost chunk still a gap, in about half the time.
Runs in about 3 seconds.  Run: python examples/recording_roundtrip.py
"""
import tempfile
import time

import numpy as np

import acqflow
from acqflow.devices.player import Player
from acqflow.interrupt import quiet_interrupt
from acqflow.nodes.recorder import Recorder
from acqflow.storage import open_recording

RATE, CHUNK, N_CHUNKS, NCH = 1000.0, 50, 30, 8


def chunk(k: int) -> np.ndarray:
    """Chunk k of the source: a sine per channel, a function of the absolute index."""
    i = np.arange(k * CHUNK, (k + 1) * CHUNK)[:, None]
    return np.sin(2 * np.pi * i / RATE * (1 + np.arange(NCH))).astype("float32")


def record(path: str) -> None:
    out = acqflow.OutputStream(name="sig")
    out.configure(protocol="inproc", dtype="float32", shape=(-1, NCH), sample_rate=RATE,
                  units="V", channel_info=[{"name": f"ch{c}"} for c in range(NCH)])
    rec = Recorder(name="rec")
    rec.configure(streams=["sig"], dirname=path, block_s=0.2, fsync="block")
    rec.inputs["sig"].connect(out)
    rec.initialize()
    rec.start()
    t0 = time.monotonic()
    for k in range(N_CHUNKS):
        if k != 10:                                   # chunk 10 is lost: a gap
            out.send(chunk(k), index=(k + 1) * CHUNK)
        time.sleep(max(0.0, t0 + (k + 1) * CHUNK / RATE - time.monotonic()))  # device pace
    rec.stop()                                        # records what already arrived, seals
    print("recorder:", rec.stats()["writer"]["streams"]["sig"])
    rec.close()                                       # commits the recording
    out.close()


def main() -> None:
    path = tempfile.mkdtemp() + "/session"
    record(path)

    rec = open_recording(path)
    sig = rec["sig"]
    print(rec, sig, sep="\n")
    print(f"committed: {rec.committed}; gaps: {sig.gaps}; samples up to index {sig.stop_index}")
    same = np.array_equal(sig[1000:1100], np.concatenate([chunk(20), chunk(21)]))
    print(f"samples 1000-1100 read back equal to what the source sent: {same}")
    t0, t1 = sig.time_range
    print(f"recorded {t1 - t0:.2f} s; channel_info {sig.channel_info[:2]}...")

    player = Player(name="player")
    player.configure(url=path, rate=2.0)
    player.outputs["sig"].configure(protocol="inproc")
    player.initialize()
    inp = acqflow.InputStream()
    inp.connect(player.outputs["sig"])
    player.start()
    start = time.monotonic()
    got = {}
    while not got or max(got) < sig.stop_index:
        index, data = inp.recv(timeout=5000)
        got[index] = data.copy()
    took = time.monotonic() - start
    player.wait_end(5)
    print(f"replayed {t1 - t0:.2f} s in {took:.2f} s at rate 2; state {player.state!r}; "
          f"pacing {player.stats()['lateness_p50'] * 1e3:.2f} ms late (median)")
    print("gaps seen by the live input (start, stop, cause):", list(inp.gap_log))
    same = all(np.array_equal(data, sig[index - len(data):index]) for index, data in got.items())
    print(f"replayed samples equal to the recording at the same indexes: {same}")
    inp.close()
    player.close()


if __name__ == "__main__":
    quiet_interrupt()                           # Ctrl-C: 'interrupted', no traceback
    main()
