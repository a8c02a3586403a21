"""The ceilings the stream benchmark prints beside its rows.

- :func:`ring_copy_rate`: one core copying the same chunks into a ring of the same
  size and back out of it (what a sharedmem stream with a reading reader does, minus
  everything else): the ceiling of a sharedmem row.
- :func:`zmq_pubsub_rate`: a bare pyzmq PUB/SUB pair between two processes with the
  socket options acqflow's streams use (high-water marks, no drop), the payload sent
  zero-copy and read by the receiver: the ceiling of a tcp/ipc row.
- :func:`bare_hop_latency`: the floor of a same-host hop in Python: a paced writer
  copies 2 KiB into shared memory, publishes one record and writes one byte to a
  pipe; a reader in another process wakes in ``poll()``, reads the byte and the
  record and copies the chunk out (no checks, no accounting): beside ``--hops``.
"""
from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import time

import numpy as np
import zmq

__all__ = ["ring_copy_rate", "zmq_pubsub_rate", "bare_hop_latency"]


def ring_copy_rate(chunk: np.ndarray, buffer_size: int, double: bool = False, touch: bool = True,
                   seconds: float = 0.3) -> float:
    """Bytes/s of chunks copied into a ring of ``buffer_size`` samples (twice for a
    ``double`` ring) and, when ``touch``, back out into one destination array: the best
    of three runs of ``seconds / 3`` (a ceiling is what the machine can do)."""
    return max(_ring_copy(chunk, buffer_size, double, touch, seconds / 3) for _ in range(3))


def _ring_copy(chunk: np.ndarray, buffer_size: int, double: bool, touch: bool, seconds: float) -> float:
    n = chunk.shape[0]
    ring = np.empty(((2 if double else 1) * buffer_size,) + chunk.shape[1:], chunk.dtype)
    dst = np.empty_like(chunk)
    pos, count, t0 = 0, 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or count < 3:
        if pos + n > buffer_size:
            pos = 0
        ring[pos:pos + n] = chunk
        if double:
            ring[buffer_size + pos:buffer_size + pos + n] = chunk
        if touch:
            np.copyto(dst, ring[pos:pos + n])
        pos += n
        count += 1
    return count * chunk.nbytes / (time.perf_counter() - t0)


def _publisher(address: str, nbytes: int, hwm: int, seconds: float) -> None:
    """Child: an XPUB (no drop, same high-water mark) that waits for one subscriber,
    sends ``nbytes`` messages for ``seconds``, then an empty end message, and exits once
    the subscriber has left (so that no zero-copy payload is freed while in flight)."""
    sock: zmq.Socket[bytes] = zmq.Context.instance().socket(zmq.XPUB)
    sock.setsockopt(zmq.LINGER, 1000)
    sock.setsockopt(zmq.SNDHWM, hwm)
    sock.setsockopt(zmq.XPUB_NODROP, 1)
    if address.endswith(":*"):
        address = f"{address[:-2]}:{sock.bind_to_random_port(address[:-2])}"
    else:
        sock.bind(address)
    print(address, flush=True)
    sock.recv()                               # the subscription: the subscriber is there
    payload = np.random.default_rng(0).integers(0, 200, nbytes, dtype=np.uint8)
    head = b"\0" * 64                           # the size of acqflow's header
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        sock.send_multipart([head, payload], copy=False)  # type: ignore[list-item]  # (an ndarray is a buffer; numpy's stubs do not say so)
    sock.send_multipart([b"", b""])
    sock.setsockopt(zmq.RCVTIMEO, 30000)
    sock.recv()                               # the unsubscription: everything was received
    sock.close()
    zmq.Context.instance().term()             # before the payload's memory goes away


def zmq_pubsub_rate(nbytes: int, protocol: str = "tcp", hwm: int = 16, seconds: float = 1.0,
                    touch: bool = True) -> float:
    """Bytes/s of a bare pyzmq PUB/SUB pair between two processes over ``protocol``
    (tcp or ipc); the receiver copies every payload out when ``touch``."""
    tmp = None
    if protocol == "ipc":
        tmp = tempfile.mkdtemp(prefix="acqflow-ceiling-")
        address = f"ipc://{tmp}/pub"
    else:
        address = "tcp://127.0.0.1:*"
    proc = subprocess.Popen([sys.executable, "-m", "acqflow.bench.ceilings", address, str(nbytes),
                             str(hwm), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None               # (a pipe)
    sock: zmq.Socket[bytes] = zmq.Context.instance().socket(zmq.SUB)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVHWM, hwm)
    try:
        sock.connect(proc.stdout.readline().strip())
        sock.setsockopt(zmq.SUBSCRIBE, b"")
        dst = np.empty(nbytes, np.uint8)
        n, first, last = 0, None, 0.0
        while True:
            frames = sock.recv_multipart(copy=False)
            if not frames[0].bytes:
                break
            if touch:
                np.copyto(dst, np.frombuffer(frames[1].buffer, np.uint8))
            last = time.perf_counter()
            first = first or last
            n += 1
        sock.close()                          # the publisher exits once we have left
        proc.wait(30)
        return (n - 1) * nbytes / (last - first) if n > 1 and first is not None and last > first else 0.0
    finally:
        sock.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if tmp:
            for name in os.listdir(tmp):
                os.unlink(os.path.join(tmp, name))
            os.rmdir(tmp)


_HOP_SHAPE = (32, 8)                # float64: 2 KiB, as the hop bench
_HOP_RING = 4096


def bare_hop_latency(rate: float = 2000.0, seconds: float = 3.0) -> np.ndarray:
    """Latencies (s, after a 10 % warm-up) of the bare Python hop described above,
    paced at ``rate`` chunks/s: what is left for a stream's own work within a target."""
    from multiprocessing import shared_memory
    from .harness import paced
    shm = shared_memory.SharedMemory(create=True, size=64 + _HOP_RING * 64)
    assert shm.buf is not None                   # (open)
    words = shm.buf[:64].cast("q")
    ring = np.ndarray((_HOP_RING,) + _HOP_SHAPE[1:], np.float64, buffer=shm.buf, offset=64)
    r, w = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "acqflow.bench.ceilings", "hop", shm.name, str(r)],
                            stdout=subprocess.PIPE, text=True, pass_fds=(r,))
    assert proc.stdout is not None               # (a pipe)
    os.close(r)
    try:
        proc.stdout.readline()                                # attached
        chunk = np.zeros(_HOP_SHAPE)
        n = _HOP_SHAPE[0]
        head = 0
        for k in paced(seconds, rate):
            chunk[0, 0] = time.time()
            p = head % _HOP_RING
            ring[p:p + n] = chunk
            head += n
            words[1] = head
            words[0] = k + 1
            os.write(w, b"\x01")
        words[2] = 1
        os.write(w, b"\x01")
        out = np.array([float(x) for x in proc.stdout.read().split()])
        proc.wait(30)
        return out[len(out) // 10:]
    finally:
        os.close(w)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        del ring
        words.release()
        shm.close()
        shm.unlink()


def _hop_reader(name: str, fd: int) -> None:
    """Child of bare_hop_latency: wake, read the record, copy the chunk out, stamp."""
    from multiprocessing import resource_tracker, shared_memory
    shm = shared_memory.SharedMemory(name=name)
    resource_tracker.unregister(shm._name, "shared_memory")  # type: ignore[attr-defined]
    assert shm.buf is not None                   # (open)
    words = shm.buf[:64].cast("q")
    ring = np.ndarray((_HOP_RING,) + _HOP_SHAPE[1:], np.float64, buffer=shm.buf, offset=64)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    dst = np.empty(_HOP_SHAPE)
    n, seen, lat = _HOP_SHAPE[0], 0, []
    print("ready", flush=True)
    while not words[2]:
        poller.poll(100)
        os.read(fd, 4096)
        while words[0] > seen:
            p = (words[1] - n) % _HOP_RING
            np.copyto(dst, ring[p:p + n])
            lat.append(time.time() - dst[0, 0])
            seen += 1
    print(" ".join(f"{x:.7f}" for x in lat), flush=True)
    del ring
    words.release()
    shm.close()


if __name__ == "__main__":
    if sys.argv[1] == "hop":
        _hop_reader(sys.argv[2], int(sys.argv[3]))
    else:
        _publisher(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
