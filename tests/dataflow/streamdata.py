"""Deterministic chunks for every stream type, shared by tests and the peer process."""
import threading

import numpy as np

EVENT_DTYPE = [("index", "int64"), ("label", "S16")]

PARAMS = {
    "analogsignal": dict(streamtype="analogsignal", dtype="float32", shape=(-1, 4), sample_rate=1000.0),
    "digitalsignal": dict(streamtype="digitalsignal", dtype="uint8", shape=(-1, 2), sample_rate=1000.0),
    "event": dict(streamtype="event", dtype=EVENT_DTYPE, shape=(-1,)),
    "video": dict(streamtype="video", dtype="uint8", shape=(-1, 24, 32, 3), sample_rate=30.0),
}


def make_chunk(streamtype: str, start: int, n: int) -> np.ndarray:
    """Samples start..start+n-1 of the reference signal of ``streamtype``."""
    idx = np.arange(start, start + n)
    if streamtype == "analogsignal":
        return (idx[:, None] * 4 + np.arange(4)).astype("float32")
    if streamtype == "digitalsignal":
        return ((idx[:, None] * 7 + np.arange(2)) % 256).astype("uint8")
    if streamtype == "event":
        out = np.zeros(n, EVENT_DTYPE)
        out["index"] = idx * 10
        out["label"] = [f"ev{i}".encode() for i in idx]
        return out
    if streamtype == "video":
        frames = np.zeros((n, 24, 32, 3), "uint8")
        frames += (idx % 251).astype("uint8")[:, None, None, None]
        frames[:, :, :, 1] = np.arange(32, dtype="uint8")
        return frames
    raise ValueError(streamtype)


def chunk_sizes(streamtype: str) -> list[int]:
    return [1, 3, 1] if streamtype == "video" else [5, 17, 1, 64, 13]


def sends_freely(out, chunks: int = 3000, timeout: float = 20.0) -> bool:
    """Send ``chunks`` zero chunks of 64 samples to ``out`` from a thread: True once all
    went, False when the output stayed stalled for ``timeout`` s."""
    done = threading.Event()
    chunk = np.zeros((64,) + tuple(out.params["shape"][1:]), out.params["dtype"])

    def run():
        for _ in range(chunks):
            out.send(chunk)
        done.set()
    threading.Thread(target=run, daemon=True).start()
    return done.wait(timeout)
