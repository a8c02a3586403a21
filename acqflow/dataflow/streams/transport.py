"""ZeroMQ fan-out with acknowledged subscriptions and optional blocking.

The output side binds an XPUB socket in manual mode (XPUB_MANUAL): a peer's
subscriptions do nothing until the keeper thread accepts them.  An input
subscribes to ``ACK + token + proof + topic``, where ``proof`` is an HMAC of its
random token under the output's ``stream_key`` (a secret in the output's params,
which only processes that read them through the owner's RPC hold).  The keeper
checks the proof, subscribes that connection to the wanted data ``topic`` and to
the answer's topic, then answers; so when the answer reaches the input its data
subscription is live: whatever is sent after ``connect()`` returns is either
delivered or counted as dropped, never silently missed.

A connection that never proves the key (a stranger's plain SUB socket, even one
subscribed to everything) is subscribed to nothing: it receives no data and,
since ZeroMQ applies a high-water mark only to the connections a message goes
to, it can never stall a blocking output.  These are the "accepted readers".

``block=True`` sets XPUB_NODROP: a full queue of an accepted reader makes ``send``
wait instead of dropping (a slow reader slows the writer and loses nothing).

While an output is idle its keeper sends a heartbeat (every HEARTBEAT_S) carrying
the seq and index of the last data message, so an input learns of messages it
lost even when none follows them; the subscription answer carries the same
position, so losses before an input's first message are counted too.

End-of-stream is acknowledged too: ZeroMQ silently skips an input whose queue
is full, so ``close()`` repeats the message until each input has subscribed to
``CLOSE_ACK + token`` (or left, or CLOSE_TIMEOUT_MS passed).
"""
from __future__ import annotations

import collections
import hashlib
import hmac
import logging
import math
import os
import select
import threading
import time
from typing import Any, Callable, cast

import zmq

from . import clock
from ..errors import MalformedMessage, StreamClosed
from .private import is_loopback, private_address
from .wire import (ACK, CLOSE_ACK, CLOSED, DATA, HEARTBEAT, SHARED, TOPIC, pack_header, pack_position,
                   unpack_header, unpack_position)

__all__ = ["Publisher", "Subscriber", "bind_address", "uses_curve", "new_stream_key"]

log = logging.getLogger(__name__)
_ids = iter(range(1 << 62))
CLOSE_TIMEOUT_MS = 500   # ms close() waits for inputs to acknowledge end-of-stream
HEARTBEAT_S = 0.03    # an output idle this long (to twice this) sends a heartbeat
# Plain ints: pyzmq's enum arithmetic costs microseconds per message.
_SNDMORE, _POLLIN = int(zmq.SNDMORE), int(zmq.POLLIN)
_RCVTIMEO, _EVENTS = int(zmq.RCVTIMEO), int(zmq.EVENTS)
# The Cython send, without the pure-Python wrapper (about 2 us per call on a 2-core VM).
_send_frame = zmq.backend.Socket.send
COPY_BELOW = 1 << 16   # payloads smaller than this are copied: cheaper than tracking a buffer


_TOKEN, _PROOF = 12, 16       # bytes of an input's token and of its proof of the stream key
MAX_SUBSCRIPTION = 4096        # bytes: longer messages to an output disconnect their sender
_DATA_TOPICS = (TOPIC, TOPIC + CLOSED)


def bind_address(protocol: str, interface: str, port: int | str) -> str:
    """The address an output binds to: ipc in this user's private 0700 directory, inproc,
    or tcp."""
    if protocol == "tcp":
        return f"tcp://{interface}:{port}"
    if protocol == "inproc":
        return f"inproc://acqflow-{os.getpid()}-{next(_ids)}-{os.urandom(3).hex()}"
    return private_address("stream")


def uses_curve(address: str, insecure: bool) -> bool:
    """Whether an output bound to ``address`` encrypts (CurveZMQ): tcp off loopback,
    unless ``insecure``.  Raises when it should but this libzmq cannot."""
    if insecure or is_loopback(address):
        return False
    if not zmq.has("curve"):
        raise PermissionError(f"refusing to bind output stream to {address} unencrypted: this libzmq "
                              f"has no CurveZMQ (pass insecure=True to send in clear)")
    return True


def new_stream_key() -> str:
    """A fresh secret an output's inputs prove they hold (hex)."""
    return os.urandom(16).hex()


def _proof(key: str | None, token: bytes) -> bytes:
    """What an input holding ``key`` sends with ``token`` (zeros without a key)."""
    if not key:
        return bytes(_PROOF)
    return hmac.new(bytes.fromhex(key), token, hashlib.sha256).digest()[:_PROOF]


class Publisher:
    """The sending end: one XPUB socket shared by a caller thread and a keeper thread."""

    def __init__(self, address: str, block: bool, hwm: int, stream_id: str | None = None,
                 position: tuple[int, int] = (0, 0), key: str | None = None, curve: bool = False):
        """``key``: the stream key inputs must prove they hold (None: a fresh one, see
        :attr:`key`).  ``curve``: encrypt with a fresh CurveZMQ key pair, whose public
        half (:attr:`curve_key`) inputs need."""
        self.block = block
        self.stream_id = stream_id
        self.key = key or new_stream_key()
        self.position = position                 # (seq, index) of the last data message sent
        self._lock = threading.Lock()
        self._closing = False
        # token -> [has acknowledged end-of-stream, takes data messages from ZeroMQ]
        self._inputs: dict[bytes, list[bool]] = {}
        # Whether any input takes data messages from ZeroMQ: inputs on the same-host
        # wake-up path (wakeup.py) subscribe only to end-of-stream.
        self.zmq_readers = False
        self.refused = 0                         # subscriptions without a valid proof
        self._acked = threading.Event()
        sock: zmq.Socket[bytes] = zmq.Context.instance().socket(zmq.XPUB)
        sock.setsockopt(zmq.XPUB_MANUAL, 1)      # subscriptions apply only once accepted
        self.curve_key: str | None = None
        if curve:
            # No client authentication here (no ZAP handler on this context): an input proves
            # the stream key inside the encrypted channel, and checks this key (its params').
            public, secret = zmq.curve_keypair()
            sock.curve_server = True
            sock.curve_secretkey, sock.curve_publickey = secret, public
            self.curve_key = public.decode("ascii")
        sock.setsockopt(zmq.LINGER, 1000)
        sock.setsockopt(zmq.SNDHWM, hwm)
        sock.setsockopt(zmq.RCVHWM, 0)
        # Inputs send subscriptions of a few dozen bytes; a peer sending more is dropped
        # before anything is stored (libzmq keeps a subscription as a trie as deep as it
        # is long and frees it recursively: a 1 MB one has overflowed a thread's stack).
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_SUBSCRIPTION)
        if block:
            sock.setsockopt(zmq.XPUB_NODROP, 1)
            sock.setsockopt(zmq.SNDTIMEO, 100)   # lets a blocked send notice close()
        try:
            sock.bind(address)
        except zmq.ZMQError as exc:
            sock.close(0)
            raise OSError(f"cannot bind output stream to {address}: {exc}") from None
        self.url = sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self._ipc_path = self.url[len("ipc://"):] if self.url.startswith("ipc://") else None
        self._sock = sock
        self._fd = cast(int, sock.getsockopt(zmq.FD))
        self._wake_r, self._wake_w = os.pipe()
        self._keeper = threading.Thread(target=self._keep, name=f"acqflow-keeper {self.url}",
                                        daemon=True)
        self._keeper.start()

    def _keep(self) -> None:
        # poll(), not select(): select() cannot watch descriptors numbered >= 1024.
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        seen = None
        next_beat = time.monotonic() + HEARTBEAT_S
        try:
            while not self._closing:
                poller.poll(max(1, int((next_beat - time.monotonic()) * 1000) + 1))
                if self._closing:
                    break
                with self._lock:
                    self._drain()
                    now = time.monotonic()
                    if now >= next_beat:
                        if self.position is seen and self._inputs:
                            self._heartbeat()
                        seen, next_beat = self.position, now + HEARTBEAT_S
        except Exception:
            log.exception("output %s: subscription keeper failed; new inputs cannot connect",
                          self.url)

    @property
    def n_inputs(self) -> int:
        return len(self._inputs)

    def _heartbeat(self) -> None:
        seq, index = self.position
        try:
            self._sock.send(pack_header(HEARTBEAT, seq, index, 0, clock.now(), None, []), zmq.NOBLOCK)
        except zmq.Again:
            pass      # a full queue: the next beat tries again

    def set_position(self, seq: int, index: int) -> None:
        """Record where the stream stands without sending (e.g. an index moved on)."""
        with self._lock:
            self.position = (seq, index)

    def set_hwm(self, hwm: int) -> None:
        """Raise the per-input queue length (messages), existing inputs included.
        (Lowering it on live connections makes ZeroMQ stall or drop: never do.)
        Known hazard: libzmq 4.3.5 tells every connection's far end, even one an input
        that just left has freed, which can segfault the process."""
        with self._lock:
            self._sock.setsockopt(zmq.SNDHWM, int(hwm))

    def _drain(self) -> None:
        """Read subscription messages: new inputs (accepted only with a valid proof of the
        stream key), departures, end-of-stream acks.  Anything else is ignored."""
        sock = self._sock
        while cast(int, sock.getsockopt(zmq.EVENTS)) & _POLLIN:
            msg = sock.recv(zmq.NOBLOCK)
            subscribe, kind, token = msg[:1] == b"\x01", msg[1:2], msg[2:2 + _TOKEN]
            if kind == ACK and subscribe:
                self._accept(msg[1:], token)
            elif kind == ACK:
                if self._inputs.pop(token, None) is not None:
                    self.zmq_readers = any(data for _, data in self._inputs.values())
            elif kind == CLOSE_ACK and subscribe and token in self._inputs:
                self._inputs[token][0] = True
                self._acked.set()

    def _accept(self, subscription: bytes, token: bytes) -> None:
        """Subscribe the connection that sent ``subscription`` to its data topic and to
        its answer, then answer with the stream's position; refuse a wrong proof."""
        proof, topic = subscription[1 + _TOKEN:1 + _TOKEN + _PROOF], subscription[1 + _TOKEN + _PROOF:]
        if len(token) != _TOKEN or topic not in _DATA_TOPICS or \
                not hmac.compare_digest(proof, _proof(self.key, token)):
            self.refused += 1
            if self.refused == 1:
                log.warning("output %s: refused a subscription that does not prove this stream's "
                            "key (not an acqflow input holding the output's params)", self.url)
            return
        sock = self._sock
        sock.setsockopt(zmq.SUBSCRIBE, topic)           # (manual mode: for that connection only)
        sock.setsockopt(zmq.SUBSCRIBE, subscription)
        self._inputs[token] = [False, topic == TOPIC]
        self.zmq_readers = any(data for _, data in self._inputs.values())
        try:
            sock.send(subscription + pack_position(*self.position, self.stream_id), zmq.NOBLOCK)
        except zmq.Again:
            pass   # the input times out and reports it

    def send(self, header: bytes, payload: Any = None,
             position: tuple[int, int] | None = None) -> None:
        """Send one message (header frame, optional payload frame) to every input.

        ``position`` is the message's (seq, index), kept for heartbeats.  In blocking
        mode a full input queue makes this wait (re-checking close()); a refused
        first frame leaves nothing half-sent.
        """
        while True:
            with self._lock:
                if self._closing:
                    raise StreamClosed("output stream is closed")
                try:
                    if payload is None:
                        _send_frame(self._sock, header, 0, True, False)
                    else:
                        _send_frame(self._sock, header, _SNDMORE, True, False)
                        _send_frame(self._sock, payload, 0, payload.nbytes < COPY_BELOW, False)
                    if position is not None:
                        self.position = position
                    return
                except zmq.Again:
                    if not self.block:
                        raise

    def announce(self, make_header: Callable[[], bytes], position: tuple[int, int]) -> None:
        """A chunk published elsewhere (the shared ring's wake-up records): send its
        header, made by ``make_header()``, only to inputs reading data from ZeroMQ."""
        with self._lock:
            zmq_readers = self.zmq_readers
            if not zmq_readers:
                if self._closing:
                    raise StreamClosed("output stream is closed")
                self.position = position
                return
        self.send(make_header(), None, position)

    def close(self, last_message: bytes | None = None, timeout: float = CLOSE_TIMEOUT_MS) -> None:
        """Deliver ``last_message`` to every input (acknowledged, up to ``timeout`` ms), then close."""
        if self._closing:
            return
        if last_message is not None:
            self._deliver_last(last_message, timeout)
        with self._lock:
            self._closing = True
        os.write(self._wake_w, b"x")
        self._keeper.join()
        self._sock.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
        if self._ipc_path:
            try:
                os.unlink(self._ipc_path)
            except FileNotFoundError:
                pass

    def _deliver_last(self, message: bytes, timeout: float) -> None:
        deadline = time.monotonic() + timeout / 1000.0
        while True:
            with self._lock:
                self._drain()
                waiting = [t for t, (acked, _) in self._inputs.items() if not acked]
                if not waiting:
                    return
                self._acked.clear()
                try:
                    self._sock.send(message, zmq.NOBLOCK)
                except zmq.Again:
                    pass
            if time.monotonic() > deadline:
                log.info("output %s: %d input(s) did not acknowledge end-of-stream within %s ms "
                         "(not reading?)", self.url, len(waiting), timeout)
                return
            self._acked.wait(0.01)


class Subscriber:
    """The receiving end: a SUB socket that waits for the output's acknowledgement."""

    def __init__(self, url: str, hwm: int, timeout: float = 5000, topic: bytes = TOPIC,
                 key: str | None = None, curve_key: str | None = None):
        """Waits up to ``timeout`` ms for the output's answer.  ``topic``: the messages
        wanted (all of the stream's by default; an input woken through shared memory
        takes only end-of-stream, ``TOPIC + CLOSED``).  ``key``: the output's
        ``stream_key`` param, without which the output does not answer.  ``curve_key``: its
        ``curve_key`` param (an encrypted output's public key; this end uses a fresh pair)."""
        sock: zmq.Socket[bytes] = zmq.Context.instance().socket(zmq.SUB)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVHWM, hwm)
        if curve_key:
            public, secret = zmq.curve_keypair()
            sock.curve_serverkey = curve_key.encode("ascii")
            sock.curve_publickey, sock.curve_secretkey = public, secret
        sock.connect(url)
        sock.setsockopt(zmq.SUBSCRIBE, topic)        # (this end's filter; the output decides)
        self._token = os.urandom(_TOKEN)
        self.position: tuple[int, int, str | None] | None = None   # (seq, index, stream_id) answered
        token = ACK + self._token + _proof(key, self._token) + topic
        sock.setsockopt(zmq.SUBSCRIBE, token)
        self._sock = sock
        self.pending: collections.deque = collections.deque()
        self.newest_send = -math.inf   # the newest send time of a data message read ahead
        self._rcvtimeo = -1
        deadline = time.monotonic() + timeout / 1000.0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sock.poll(int(remaining * 1000) + 1):
                sock.close(0)
                raise TimeoutError(f"no output stream answered at {url} within {timeout} ms "
                                   f"(is it configured and its process alive, and are these its "
                                   f"current params? it answers only inputs holding its stream_key)")
            frames = sock.recv_multipart(copy=False)
            first = frames[0].bytes
            if first[:len(token)] == token:
                self.position = unpack_position(first[len(token):])
                if self.position is not None:
                    self.pending.clear()  # sent before the answer: before this input joined
                break
            self.pending.append(frames)   # data that raced ahead of the answer

    def poll(self, timeout_ms: int | None, fd: int | None = None) -> bool:
        """Whether a message waits, waiting up to ``timeout_ms`` (None: forever); with
        ``fd``, also returns (True) when that descriptor becomes readable."""
        if self.pending:
            return True
        items: list[tuple[Any, int]] = [(self._sock, _POLLIN)]
        if fd is not None:
            items.append((fd, _POLLIN))
        return bool(zmq.zmq_poll(items, -1 if timeout_ms is None else timeout_ms))

    @property
    def fd(self) -> int:
        """ZeroMQ's descriptor for this socket (edge-triggered: check ready() after it fires)."""
        return cast(int, self._sock.getsockopt(zmq.FD))

    def ready(self) -> bool:
        """Whether a message waits (without waiting)."""
        # (pyzmq types getsockopt as int | bytes | str; EVENTS is an int)
        return bool(self.pending) or bool(self._sock.getsockopt(_EVENTS) & _POLLIN)  # type: ignore[operator]

    def recv(self, timeout_ms: int | None) -> list | None:
        """The next message's frames, or None after ``timeout_ms`` (None: wait forever)."""
        if self.pending:
            return self.pending.popleft()
        sock = self._sock
        # A blocking recv with a receive timeout wakes sooner than poll() + recv()
        # (about 10 us less per message on a 2-core machine), and trying a NOBLOCK
        # recv first would cost a zmq.Again exception (~9 us) whenever the queue is
        # empty, i.e. on every message of a reader that keeps up.
        timeout = -1 if timeout_ms is None else int(timeout_ms)
        if timeout != self._rcvtimeo:
            sock.setsockopt(_RCVTIMEO, timeout)
            self._rcvtimeo = timeout
        try:
            first = sock.recv(0, copy=False)
        except zmq.Again:
            return None
        frames = [first]
        while frames[-1].more:
            frames.append(sock.recv(0, copy=False))
        return frames

    def read_ahead(self, limit: int = 100000) -> float:
        """Move what the socket holds now to ``pending`` (up to ``limit`` messages queued;
        the socket's own bound is far lower), without waiting, for ``recv`` to return in
        order; returns :attr:`newest_send`, the newest send time of a data message so far."""
        sock = self._sock
        while len(self.pending) < limit and sock.poll(0):
            frames = [sock.recv(0, copy=False)]
            while frames[-1].more:
                frames.append(sock.recv(0, copy=False))
            self.pending.append(frames)
            raw = frames[0].bytes
            if raw[1:2] in (DATA, SHARED):      # heartbeats and ends are stamped when idle
                try:
                    self.newest_send = max(self.newest_send, unpack_header(raw).send_time)
                except MalformedMessage:
                    pass                        # counted when it is read
        return self.newest_send

    def acknowledge_close(self) -> None:
        """Tell the output its end-of-stream message arrived."""
        self._sock.setsockopt(zmq.SUBSCRIBE, CLOSE_ACK + self._token)

    def close(self) -> None:
        self._sock.close(0)
