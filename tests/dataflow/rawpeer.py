"""A hostile or careless stream output: a raw ZeroMQ XPUB socket speaking the wire
format by hand, so tests can send any frames to a real InputStream."""
import threading

import msgpack
import numpy as np
import zmq

from acqflow.dataflow.streams import clock
from acqflow.dataflow.streams.wire import ACK, DATA, pack_header, pack_position


class RawPeer:
    """Binds an XPUB, answers inputs' subscriptions, and sends whatever frames it is given."""

    def __init__(self, dtype="float32", shape=(-1, 2), position=(0, 0), stream_id="raw"):
        self.sock = zmq.Context.instance().socket(zmq.XPUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SNDHWM, 0)
        self.sock.bind("tcp://127.0.0.1:*")
        self.url = self.sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self.position = position
        self.stream_id = stream_id
        self.dtype = np.dtype(dtype)
        self.params = dict(url=self.url, dtype=self.dtype.str, shape=list(shape),
                           streamtype="analogsignal", transfermode="plaindata", protocol="tcp",
                           backpressure="drop", hwm=1000, stream_id=stream_id,
                           double=False, axisorder=None, sample_rate=1.0)
        self.seq, self.index = position
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._answer, daemon=True)
        self._thread.start()

    def _answer(self):
        while not self._stop:
            with self._lock:
                while self.sock.poll(0):
                    msg = self.sock.recv()
                    if msg[:1] == b"\x01" and msg[1:2] == ACK:
                        self.sock.send(msg[1:] + pack_position(self.seq, self.index, self.stream_id))
            threading.Event().wait(0.005)

    def send(self, *frames):
        with self._lock:
            self.sock.send_multipart(list(frames))

    def good(self, n=3):
        """Send a valid chunk of ``n`` samples whose values are their absolute indexes."""
        start = self.index
        data = np.repeat(np.arange(start, start + n, dtype=self.dtype)[:, None], 2, axis=1)
        self.seq += 1
        self.index += n
        self.send(self.header(), data.tobytes())
        return self.index

    def header(self, kind=DATA, seq=None, index=None, n=3, t=None, dtype=None, shape=None):
        return pack_header(kind, self.seq if seq is None else seq,
                           self.index if index is None else index, n,
                           clock.now() if t is None else t,
                           self.dtype.str if dtype is None else dtype,
                           [n, 2] if shape is None else shape)

    @staticmethod
    def raw_header(kind, fields):
        return b"M" + kind + msgpack.packb(fields)

    def close(self):
        self._stop = True
        self._thread.join()
        self.sock.close(0)
