"""InputStream: the receiving end of a stream (pyacq's API)."""
from __future__ import annotations

import collections
import logging
import math
import time
from typing import Any, Callable, Literal, Sequence, overload

import msgpack
import numpy as np

from . import clock, packets
from .clock import SenderClock
from ..errors import MalformedMessage, OverrunError, StreamClosed, StreamError
from .inputcheck import check_spin, output_params
from .outputstream import planned_chunk_bytes, queue_hwm
from .inputring import RingAccess
from .ringbuffer import RingBuffer, attach_output_ring
from .sharedmem import ReaderSlots
from .spec import DEFAULT_PARAMS, check_compatible, check_filters, make_dtype
from ..stats import InputStats, quantile
from .timemodel import StreamTimes
from .transport import Subscriber
from .wakeup import WakeReader, open_reader
from .wire import CLOSED, DATA, HEARTBEAT, SHARED, TOPIC, Header, new_header, unpack_header

__all__ = ["InputStream"]

log = logging.getLogger(__name__)


class InputStream(SenderClock, StreamTimes, RingAccess):
    """Receives the chunks of one OutputStream, in order, and reports any loss.

    ``recv()`` returns ``(index, data)``: ``index`` is the absolute count after the
    chunk.  ``dropped`` counts samples lost in transport (slow reader in 'drop'
    mode, ring overrun); ``gaps`` counts index discontinuities of any cause, listed
    in ``gap_log`` as ``(start, stop, cause)`` with cause 'dropped', 'overrun',
    'source' (the sender skipped) or 'disconnected' (sent while this input was
    closed, before a reconnect); losses at the end of a stream are counted too.
    ``malformed`` counts messages skipped as nonsense (``last_malformed`` says why), ``stale``
    chunks dropped for waiting over ``max_queue_s``, ``stream_changes`` reconnects to another output.

    ``spin`` (ms, default 0) makes ``recv``/``poll`` of a same-host sharedmem input
    busy-wait that long for the next chunk before sleeping: lower latency for a
    closed loop, at the cost of a core (see docs/streams.md, "Same-host wake-up").
    """

    def __init__(self, spec: dict | None = None, node: Any = None, name: str | None = None,
                 spin: float = 0.0):
        self.spec = dict(spec or {})
        self.spin = spin
        self.node = node
        self.name = name
        self.params: dict[str, Any] = {}
        self.filters: list = []
        # what connect() reports to (a node's ports set it): raising refuses the connection
        self.on_connect: Callable[[InputStream], None] | None = None
        self.connected = False
        self.dropped = 0
        self.gaps = 0
        self.gap_log: collections.deque = collections.deque(maxlen=1000)
        self.received_chunks = 0
        self.received_samples = 0
        self.malformed = 0
        self.last_malformed: str | None = None
        self.stale = 0
        self.stream_changes = 0
        self.stream_id: str | None = None
        self.last_latency: float | None = None
        self.last_send_time: float | None = None   # sender's clock.now() for the last chunk
        self.latencies: collections.deque = collections.deque(maxlen=1000)
        self._sub: Subscriber | None = None
        self._shm: RingBuffer | None = None
        self._slot: int | None = None
        self._slots: ReaderSlots | None = None
        self._wake: WakeReader | None = None     # the same-host wake-up (sharedmem)
        self._buffer: RingBuffer | None = None
        self._last_seq: int | None = None
        self._last_index: int | None = None
        self._foreign_clock: str | None = None
        self._peeked: tuple[Header, Any] | None = None
        self._shape: tuple[int, ...] | None = None
        self._sample_shape: tuple[int, ...] | None = None
        self._packets = False           # a packet stream: one frame per chunk (packets.py)
        self._max_age = math.inf

    @property
    def spin(self) -> float:
        """ms a same-host sharedmem recv()/poll() busy-waits before sleeping (settable)."""
        return self._spin

    @spin.setter
    def spin(self, ms: float) -> None:
        self._spin = check_spin(ms)

    def connect(self, output: Any, timeout: float = 5000) -> None:
        """Connect to an OutputStream, a proxy to one, or its params dict.

        Refuses (ValueError naming both sides) an output this input's spec does
        not accept; returns once the output has acknowledged the connection
        (TimeoutError after ``timeout`` ms, streams' unit, as ``recv``/``poll``).

        The sequence, each step owned here: check the params against ``spec``; attach
        the shared ring (sharedmem) and subscribe; count from the position the output
        answered with; mark connected; then report to ``on_connect(self)`` (a node's
        ``after_input_connect``, wired by its ``inputs``).  If that raises, this input
        closes itself (left unconnected, as before the call) and the error propagates:
        the owner only observes and refuses, it never closes the input.
        """
        if self.connected:
            raise StreamError(f"{self._label()} is already connected; close() it first")
        params = output_params(output)
        out_name = ".".join(str(p) for p in (params.get("node"), params.get("name")) if p)
        check_compatible(params, self.spec, output_name=f"output {out_name or params['url']}",
                         input_name=self._label())
        self._dtype = make_dtype(params["dtype"])
        # The dtype as it arrives in headers (msgpack turns the tuples of a descr into lists).
        self._header_dtype = msgpack.unpackb(msgpack.packb(params["dtype"]))
        self._shape = None if params["shape"] is None else tuple(params["shape"])
        self._sample_shape = None if self._shape is None else self._shape[1:]   # (checked per chunk)
        self._packets = params["streamtype"] == packets.STREAMTYPE
        if params["transfermode"] == "sharedmem":
            self._shm = shm = attach_output_ring(params, self._dtype, self._label())
            segment = shm.segment
            assert segment is not None          # (attached: in shared memory)
            if params["backpressure"] == "block":
                self._slots = ReaderSlots(segment)
                self._slot = self._slots.register(shm.index())
            self._wake = open_reader(segment, self._label())   # None: ZeroMQ wakes it
        drop = params.get("backpressure", "drop") == "drop"
        hwm = params.get("hwm") or 1000
        budget = params.get("max_queue_bytes") or DEFAULT_PARAMS["max_queue_bytes"]
        if drop and params["transfermode"] == "plaindata":
            # this end's half of the byte budget: the output's queue length, planned from
            # the stream's params and already raised if the output has sent smaller chunks
            # (never raised here: ZeroMQ cannot change a receiving queue's bound once connected)
            hwm = params.get("hwm") or queue_hwm(budget, planned_chunk_bytes(params), None)
            self._max_age = float(params.get("max_queue_s") or DEFAULT_PARAMS["max_queue_s"])
        else:
            self._max_age = math.inf
        try:
            self._sub = sub = Subscriber(params["url"], hwm=hwm, timeout=timeout,
                                         topic=TOPIC + CLOSED if self._wake else TOPIC,
                                         key=params.get("stream_key"), curve_key=params.get("curve_key"))
        except Exception:
            self._release_shm()
            raise
        self.params = params
        self._make_time_model(params)
        cid = params.get("clock_id")
        self._foreign_clock = cid if cid and cid != clock.clock_id() else None
        self._peeked = None
        self._newest_send = -math.inf
        self._join(sub.position, params.get("stream_id"))
        if self._wake is not None:   # records after the position the output answered with
            self._wake.join(sub, self._last_seq)
        self.connected = True
        if self.on_connect is not None:
            try:
                self.on_connect(self)
            except BaseException:
                self.close()      # a refused connection leaves the input unconnected
                raise

    def _join(self, position: tuple[int, int, str | None] | None, stream_id: str | None) -> None:
        """Count from the output's answered position: what was sent while away, or a new stream."""
        if stream_id is not None and self.stream_id is not None and stream_id != self.stream_id:
            self.stream_changes += 1
            log.warning("%s: connected to a different output (stream %s, was %s): the index "
                        "restarts at %s", self._label(), stream_id[:8], self.stream_id[:8],
                        position[1] if position else "its next chunk")
            self._last_index = None
            self._restart_times()                 # another output: another clock
        self.stream_id = stream_id
        self._last_seq = None
        if position is None:
            return
        seq, index = position[0], position[1]
        if self._last_index is not None and index < self._last_index:
            self.stream_changes += 1      # indexes of one output never rewind: not the same stream
            log.warning("%s: the output's index went back from %d to %d: counted as a new stream",
                        self._label(), self._last_index, index)
            self._last_index = None
            self._restart_times()
        if self._last_index is None:              # a first or a new stream: start here
            if self._buffer is not None:
                self._buffer.reset_index(index)
        elif index > self._last_index:            # the same stream moved on meanwhile:
            self._catch_up(seq, index)            # a 'disconnected' gap (no _last_seq yet)
        self._last_index, self._last_seq = index, seq

    def _label(self) -> str:
        """'input node.name' (or as much of it as is known) for messages."""
        parts = [str(p) for p in (getattr(self.node, "name", None), self.name) if p]
        return f"input {'.'.join(parts)}" if parts else "input"

    def set_buffer(self, size: int, double: bool = True, axisorder: Sequence[int] | None = None,
                   fill: Any = None) -> None:
        """Keep the last ``size`` received samples in a local ring for get_data()."""
        if not self.connected:
            raise StreamError("connect() before set_buffer()")
        if self._shape is None:
            raise StreamError("set_buffer() needs a stream with a fixed shape (configure shape=...)")
        self._buffer = RingBuffer((int(size),) + self._shape[1:], self._dtype, double=double,
                                  fill=fill, axisorder=axisorder)
        if self._last_index is not None:
            self._buffer.reset_index(self._last_index)

    def set_filters(self, filters: Any) -> None:
        """Post-receive callables applied to each chunk's data, in order."""
        self.filters = check_filters(filters)

    # -- receiving -----------------------------------------------------------
    def poll(self, timeout: float | None = None) -> bool:
        """True when a chunk (or end-of-stream) is ready; waits up to ``timeout`` ms
        (None: forever).  Heartbeats and malformed messages are handled, not reported."""
        self._check_connected()
        if self._peeked is None:
            self._peeked = self._next(timeout)
        return self._peeked is not None

    def _next(self, timeout: float | None) -> tuple[Header, Any] | None:
        """The next valid data or end-of-stream message as ``(header, frames)``, or None
        after ``timeout`` ms.  Heartbeats are accounted; malformed messages counted, skipped."""
        if self._wake is not None:   # same-host wake-up: records in the segment
            return self._next_woken(timeout)
        sub = self._sub
        assert sub is not None           # (callers check connected)
        wait = None if timeout is None else int(timeout)
        deadline = None
        while True:
            frames = sub.recv(wait)
            if frames is None:
                return None
            try:
                head = self._check(frames)
            except MalformedMessage as exc:
                self._malformed(str(exc))
                head = None
            if head is not None:
                if head.kind != HEARTBEAT:
                    return head, frames
                self._heartbeat(head)
            if wait is not None and wait > 0:    # time spent on skipped messages counts
                now = time.monotonic()
                if deadline is None:
                    deadline = now + wait / 1000
                wait = max(0, int((deadline - now) * 1000))

    def _next_woken(self, timeout: float | None) -> tuple[Header, Any] | None:
        """_next on the same-host wake-up (wakeup.WakeReader): records from the segment,
        checked against this stream's state, the end of the stream from ZeroMQ (or from the
        writer's death, never a hang)."""
        wake, sub, shm = self._wake, self._sub, self._shm
        assert wake is not None and sub is not None and shm is not None   # (connected, sharedmem)
        while True:
            got = wake.next(sub, timeout, self._spin)
            if got is None:
                return None
            what, item = got
            if what == "record":
                seq, index, n, send_time, sample_time = item
                last = self._last_index
                if n < 0 or index < n or n > shm.size or (last is not None and index - n < last):
                    self._malformed(f"shared record seq {seq} [{index - n}:{index}] does not "
                                    f"follow index {last}")
                    continue
                return new_header((SHARED, seq, index, n, send_time, None, (), sample_time)), None
            if what == "died":
                log.warning("%s: the output's process %d is gone", self._label(), wake.writer_pid)
                return new_header((CLOSED, (self._last_seq or 0) + 1, self._last_index or 0, 0,
                                   clock.now(), None, (), None)), None
            try:
                head = self._check(item)
            except MalformedMessage as exc:
                self._malformed(str(exc))
                continue
            if head.kind != HEARTBEAT:
                return head, item

    def _check(self, frames: list[Any]) -> Header:
        """Validate a message against its own header and this stream's state."""
        head = unpack_header(frames[0].bytes)
        kind, n = head.kind, head.nsamples
        last_seq, last_index = self._last_seq, self._last_index
        if last_seq is not None and (head.seq < last_seq or (head.seq == last_seq and kind != HEARTBEAT)):
            raise MalformedMessage(f"message seq {head.seq} repeats or goes back (last was {last_seq})")
        if last_index is not None and head.index - n < last_index:
            raise MalformedMessage(f"chunk [{head.index - n}:{head.index}] goes back before index "
                                   f"{last_index}")
        if kind == DATA:
            if len(frames) != 2:
                raise MalformedMessage(f"data message with {len(frames)} frames (2 expected)")
            if self._shm is not None:
                raise MalformedMessage("plain data message on a sharedmem stream")
            shape = head.shape
            if head.dtype != self._header_dtype or not shape or shape[0] != n or \
                    (self._sample_shape is not None and shape[1:] != self._sample_shape):
                raise MalformedMessage(f"chunk of {n} samples, dtype {head.dtype!r} shape {shape} "
                                       f"does not fit the stream ({self.params['dtype']} {self._shape})")
            nbytes = len(frames[1])
            if nbytes != math.prod(shape) * self._dtype.itemsize:
                raise MalformedMessage(f"payload of {nbytes} bytes for a chunk of shape {shape}")
            problem = packets.check_message(n, shape, frames[1].buffer) if self._packets else None
            if problem:
                raise MalformedMessage(problem)
        elif len(frames) != 1:
            raise MalformedMessage(f"{kind!r} message with {len(frames)} frames (1 expected)")
        elif kind == SHARED:
            if self._shm is None:
                raise MalformedMessage("shared-memory message on a plaindata stream")
            if n > self._shm.size:
                raise MalformedMessage(f"chunk of {n} samples is longer than the shared ring")
        return head

    def _is_stale(self, send_time: float) -> bool:
        """True when a chunk sent more than ``max_queue_s`` later is already queued behind
        this one.  Only asked for chunks that waited that long: it reads (and keeps, in
        order) what is queued now to find the newest send time."""
        assert self._sub is not None
        return self._sub.read_ahead() - send_time > self._max_age

    def _malformed(self, problem: str) -> None:
        self.malformed += 1
        if not problem.startswith("malformed"):
            problem = f"malformed stream message: {problem}"
        self.last_malformed = problem
        log.log(logging.WARNING if self.malformed <= 10 else logging.DEBUG,
                "%s: skipped a %s (%d so far)", self._label(), problem, self.malformed)

    def _catch_up(self, seq: int, index: int) -> None:
        """The output says messages up to ``seq`` ended at ``index`` (heartbeat or end)."""
        if self._last_index is None:
            self._last_index, self._last_seq = index, seq
            return
        if index > self._last_index:
            self._account(seq + 1, index, index)
            self._last_index = index
            if self._buffer is not None:
                self._buffer.new_chunk(np.empty((0,) + self._buffer.shape[1:], self._dtype), index)
        self._last_seq = seq

    def _heartbeat(self, head: Header) -> None:
        self._catch_up(head.seq, head.index)

    @overload
    def recv(self, timeout: float | None = None, *,
             return_data: Literal[True]) -> tuple[int, np.ndarray]: ...
    @overload
    def recv(self, timeout: float | None, return_data: Literal[True]) -> tuple[int, np.ndarray]: ...
    @overload
    def recv(self, timeout: float | None = None,
             return_data: bool | None = None) -> tuple[int, np.ndarray | None]: ...

    def recv(self, timeout: float | None = None,
             return_data: bool | None = None) -> tuple[int, np.ndarray | None]:
        """Next chunk as ``(index, data)``; waits up to ``timeout`` ms (None: forever).

        For sharedmem streams data is returned only with ``return_data=True`` (a
        copy checked against overwrites); use get_array_slice() for zero-copy views.
        Raises TimeoutError when nothing arrives, StreamClosed when the output closed
        (after counting what was lost before its end).
        """
        if not self.connected:
            self._check_connected()
        shm = self._shm
        if return_data is None:
            return_data = shm is None
        slots = self._slots
        if slots is not None and self._slot is not None and self._last_index is not None:
            slots.set_cursor(self._slot, self._last_index)   # previous chunk consumed
        while True:
            got, self._peeked = self._peeked, None
            if got is None:
                got = self._next_woken(timeout) if self._wake is not None else self._next(timeout)
                if got is None:
                    raise TimeoutError(f"{self._label()}: no data within {timeout} ms")
            head, frames = got
            if head.kind == CLOSED:
                if self._sub is not None:
                    self._sub.acknowledge_close()
                self._catch_up(head.seq - 1, head.index)
                raise StreamClosed(f"output {self.params.get('name', self.params['url'])} was closed "
                                   f"at index {head.index}")
            index = head.index
            start = index - head.nsamples
            last = self._last_index
            if last is not None and start > last:
                self._account(head.seq, start, index)
            self._last_seq = head.seq
            off: float | None = 0.0            # the sender's clock - ours (None: unknown)
            if self._foreign_clock is not None:    # latency on one clock: the receiver's
                est = clock.offset_to(self._foreign_clock, head.send_time)
                off = est[0] if est is not None else None
            latency = None if off is None else clock.now() - (head.send_time - off)
            data = None
            if shm is not None:
                if return_data or self._buffer is not None:
                    try:
                        data = shm.read(start, index)     # checked against overwrites
                    except OverrunError:
                        self._lost(start, index, "overrun")
                        continue
                elif start < shm.first_index():
                    self._lost(start, index, "overrun")
                    continue
            else:
                if latency is not None and latency > self._max_age and self._is_stale(head.send_time):
                    self.stale += 1               # the queue spans more than max_queue_s: drop it
                    self._lost(start, index, "dropped")
                    continue
                # read-only: may be the sender's (or another input's) memory; size checked in _check
                data = np.ndarray(head.shape, self._dtype, frames[1].buffer.toreadonly())
            self._last_index = index
            self.received_chunks += 1
            self.received_samples += head.nsamples
            self._stamp(head, off)        # last_send_time, last_sample_time, time_model
            if latency is not None:
                self.last_latency = latency
                self.latencies.append(latency)
            if data is not None:
                for f in self.filters:
                    data = f(data)
                if self._buffer is not None:
                    self._buffer.new_chunk(data, index)
            return index, (data if return_data else None)

    def _account(self, seq: int, start: int, stop: int) -> None:
        """Count the samples before ``start`` that never arrived (a gap), by cause."""
        if self._last_index is None:
            return
        if start > self._last_index:
            if self._last_seq is None:
                cause = "disconnected"      # what was sent while this input was not connected
            else:
                cause = "dropped" if seq != self._last_seq + 1 else "source"
            self._gap(self._last_index, start, cause)
            if cause == "dropped":
                self.dropped += start - self._last_index

    def _lost(self, start: int, stop: int, cause: str) -> None:
        """A chunk that arrived but whose data is gone (shared ring overrun)."""
        self.dropped += stop - start
        self._gap(start, stop, cause)
        self._last_index = stop
        if self._buffer is not None:
            self._buffer.new_chunk(np.empty((0,) + self._buffer.shape[1:], self._dtype), stop)

    def _gap(self, start: int, stop: int, cause: str) -> None:
        if cause == "source":
            self._restart_times()         # the sender skipped: its clock may have too
        if self.gap_log and self.gap_log[-1][1] == start and self.gap_log[-1][2] == cause:
            start = self.gap_log.pop()[0]
        else:
            self.gaps += 1
        self.gap_log.append((start, stop, cause))

    # -- state ---------------------------------------------------------------
    def stats(self) -> InputStats:
        """Counters of this input: chunks, samples, dropped, gaps, malformed, stale, stream
        changes and the latency p50/p99 (s) of recent chunks (what the run table shows)."""
        lat = sorted(self.latencies)
        return InputStats(chunks=self.received_chunks, samples=self.received_samples,
                          dropped=self.dropped, gaps=self.gaps, index=self._last_index,
                          malformed=self.malformed, stale=self.stale, stream_changes=self.stream_changes,
                          latency_p50=quantile(lat, 0.5), latency_p99=quantile(lat, 0.99))

    def _check_connected(self) -> None:
        if not self.connected:
            raise StreamError(f"{self._label()} is not connected; call connect() first")

    def _release_shm(self) -> None:
        if self._wake is not None:
            self._wake.close()
            self._wake = None
        if self._slot is not None and self._slots is not None:
            self._slots.release(self._slot)
        self._slot = self._slots = None
        if self._shm is not None:
            self._shm.close()
            self._shm = None

    def close(self) -> None:
        """Disconnect; the stream may be connected again afterwards."""
        if not self.connected:
            return
        self.connected = False
        if self._sub is not None:
            self._sub.close()
        self._sub = None
        self._peeked = None
        self._release_shm()
        self._last_seq = None

    def __repr__(self) -> str:
        where = self.params.get("url", "not connected")
        return f"<InputStream {self.name or ''} {where} received={self.received_samples}>"
