"""OutputStream: the sending end of a stream (pyacq's API)."""
from __future__ import annotations

import math
import uuid
from typing import Any

import msgpack
import numpy as np
from numpy.typing import ArrayLike

from . import clock, packets
from ..errors import StreamError
from .ringbuffer import RingBuffer
from .sharedmem import NONCE_WORD, ReaderSlots, new_nonce, shm_free_bytes
from ..paramcheck import finite_number
from .spec import check_filters, make_dtype, normalize_params, short
from .transport import CLOSE_TIMEOUT_MS, Publisher, bind_address, new_stream_key, uses_curve
from .wakeup import WakeWriter
from .wire import CLOSED, DATA, SHARED, pack_header

__all__ = ["OutputStream"]


def _check_time(time: Any, label: str) -> float:
    """A chunk's sample time as a finite float, else ValueError naming it."""
    return finite_number(f"{label}: time", time, " of seconds on clock.now()'s clock")

_SHM_BYTES = 64 * 1024 * 1024     # default shared ring size
_MAX_HWM = 1000                   # messages: bounds the per-message overhead of tiny chunks
_MSG_OVERHEAD = 256               # bytes a queued message costs besides its payload
# Chunk bytes assumed before the first send when chunksize is not given.  ZeroMQ
# queue lengths can be raised on live connections but not safely lowered (the
# reading side keeps its old low-water mark and stalls or drops), so the plan
# starts low and send() raises it once the real chunk size is known.
ASSUMED_CHUNK_BYTES = 4 << 20


def queue_hwm(max_queue_bytes: int, chunk_bytes: int, cap: int | None = _MAX_HWM) -> int:
    """Messages one end of a drop-mode stream may queue: half of ``max_queue_bytes``
    (the other half is the other end's) in chunks of ``chunk_bytes``, at most ``cap``
    (the default's limit; an explicit ``hwm`` may go beyond it) and at least 2 (a
    queue of 1 stalls ZeroMQ's flow control)."""
    n = (max_queue_bytes // 2) // (chunk_bytes + _MSG_OVERHEAD)
    return int(max(2, n if cap is None else min(cap, n)))


# Chunks assumed to span at least this long when only the rate is known (typical
# device chunks are 10 ms or more; a smaller real chunk raises the queue at send).
ASSUMED_CHUNK_S = 0.01


def planned_chunk_bytes(params: dict) -> int:
    """Bytes per message a drop-mode queue is planned for before data flows: the
    minimum chunk when ``chunksize`` and ``shape`` are set; else, with a declared rate,
    ASSUMED_CHUNK_S of data (at least one sample, at most ASSUMED_CHUNK_BYTES); else
    ASSUMED_CHUNK_BYTES."""
    if params["transfermode"] == "sharedmem":
        return 0                       # messages carry no payload: the ring holds the data
    if params["streamtype"] == packets.STREAMTYPE:
        return packets.planned_bytes(params)
    if params.get("shape") is None:
        return ASSUMED_CHUNK_BYTES
    sample = int(np.prod(params["shape"][1:], dtype=np.int64)) * make_dtype(params["dtype"]).itemsize
    if params.get("chunksize"):
        return params["chunksize"] * sample
    rate = params.get("sample_rate")
    if rate and math.isfinite(rate) and rate > 1.0:     # 1 Hz is the default: no rate declared
        return int(min(ASSUMED_CHUNK_BYTES, max(sample, rate * ASSUMED_CHUNK_S * sample)))
    return ASSUMED_CHUNK_BYTES


class OutputStream:
    """Sends chunks of an array stream to any number of connected InputStreams.

    ``configure(**params)`` binds the socket (and creates the shared ring for
    ``transfermode='sharedmem'``); ``send(data, index=None, time=None)`` sends a chunk
    whose last sample has absolute index ``index - 1`` and was taken at ``time``.  Arrays are sent without a copy:
    do not modify an array after passing it to ``send``.
    """

    def __init__(self, spec: dict | None = None, node: Any = None, name: str | None = None):
        self.spec = dict(spec or {})
        self.node = node
        self.name = name
        self.params: dict[str, Any] = {}
        self.filters: list = []
        self.configured = False
        self.configure_kwargs: dict[str, Any] = {}   # as given, for rebuilding a graph
        self.sent_chunks = 0
        self.sent_samples = 0
        self._index = 0
        self._seq = 0
        self._publisher: Publisher | None = None
        self._ring: RingBuffer | None = None
        self._slots: ReaderSlots | None = None
        self._wake: WakeWriter | None = None
        self._pending: list[np.ndarray] = []
        self._pending_n = 0
        self._pending_time: float | None = None
        self._packb = msgpack.Packer().pack    # reused: send() is called from one thread
        # Identity of this output, kept across close()/configure() like the index: an
        # input reconnected to another output sees a new stream, not a rewind.
        self.stream_id = uuid.uuid4().hex
        self._hwm_chunk_bytes = 1 << 62

    # -- set-up --------------------------------------------------------------
    def configure(self, **kwargs: Any) -> None:
        """Set stream params (see DESIGN.md), bind, and publish them in ``params``."""
        if self.configured:
            raise StreamError(f"output {self.name or ''} is already configured; close() it first")
        merged = {**self.spec, **kwargs}
        filters = check_filters(merged.pop("filters", []))
        params = normalize_params(merged)
        # who sends this stream: never inherited from an upstream stream's params
        params["name"] = self.name if self.name is not None else params.get("name")
        params["node"] = getattr(self.node, "name", None) if self.node is not None else None
        params["clock_id"] = clock.clock_id()   # the clock of the chunks' send times
        params["stream_id"] = self.stream_id
        params.pop("shm_name", None)
        params.pop("shm_nonce", None)
        params.pop("curve_key", None)
        params["stream_key"] = new_stream_key()      # fresh per configure: old params stop working
        dtype = make_dtype(params["dtype"])
        sample_shape: tuple[int, ...] | None = None if params["shape"] is None else tuple(params["shape"][1:])
        sample_bytes = int(np.prod(sample_shape or (), dtype=np.int64)) * dtype.itemsize
        drop = params["backpressure"] == "drop"
        planned = planned_chunk_bytes(params)
        bounded = queue_hwm(params["max_queue_bytes"], planned)
        self._hwm_user = params["hwm"]
        if params["hwm"] is None:
            guess = (params["chunksize"] or (1 if sample_bytes >= 4096 else 256)) * sample_bytes
            params["hwm"] = bounded if drop else int(min(_MAX_HWM, max(8, (64 << 20) // max(1, guess))))
        elif drop:
            params["hwm"] = min(params["hwm"], queue_hwm(params["max_queue_bytes"], planned, None))
        # drop mode: chunks smaller than planned raise the queue length (see send)
        self._hwm_chunk_bytes = planned if drop and params["transfermode"] == "plaindata" else -1
        ring = None
        if params["transfermode"] == "sharedmem":
            assert sample_shape is not None      # (normalize_params: sharedmem needs a shape)
            if params["buffer_size"] is None:
                params["buffer_size"] = max(params["chunksize"] or 1, _SHM_BYTES // max(1, sample_bytes))
            ring_bytes = params["buffer_size"] * sample_bytes * (2 if params["double"] else 1)
            free = shm_free_bytes()
            if free is not None and ring_bytes > free:
                raise ValueError(f"buffer_size={short(params['buffer_size'])} needs {ring_bytes} bytes "
                                 f"of shared memory, which cannot be allocated here (/dev/shm has "
                                 f"{free} bytes free); use a smaller buffer_size")
            try:
                ring = RingBuffer((params["buffer_size"],) + sample_shape, dtype, double=params["double"],
                                  shmem="create", axisorder=params["axisorder"])
            except (OSError, MemoryError, ValueError) as exc:
                raise ValueError(f"buffer_size={short(params['buffer_size'])} needs {ring_bytes} bytes "
                                 f"of shared memory, which cannot be allocated here "
                                 f"({type(exc).__name__}: {short(str(exc))}); use a smaller buffer_size"
                                 ) from None
            ring.reset_index(self._index)
            params["shm_name"] = ring.shm_id
            assert ring.segment is not None
            # Inputs check it, so a same-named segment elsewhere is never mistaken for ours.
            params["shm_nonce"] = ring.segment.header[NONCE_WORD] = new_nonce()
        try:
            address = bind_address(params["protocol"], params["interface"], params["port"])
            publisher = Publisher(address, block=not drop, hwm=params["hwm"], stream_id=self.stream_id,
                                  position=(self._seq, self._index), key=params["stream_key"],
                                  curve=uses_curve(address, params["insecure"]))
        except Exception:
            if ring is not None:
                ring.close()
            raise
        params["url"] = publisher.url
        params["curve_key"] = publisher.curve_key
        self._publisher, self._ring = publisher, ring
        segment = ring.segment if ring is not None else None
        self._slots = ReaderSlots(segment) if segment is not None else None
        self._wake = WakeWriter(segment) if segment is not None else None
        self._dtype, self._dtype_spec, self._sample_shape = dtype, params["dtype"], sample_shape
        self._chunksize = params["chunksize"] or 0
        self._video = params["streamtype"] == "video"
        self._packets = params["streamtype"] == packets.STREAMTYPE
        self._ndim = {"analogsignal": 2, "event": 1, packets.STREAMTYPE: 2}.get(params["streamtype"]) \
            if sample_shape is None else len(sample_shape) + 1
        self.filters = filters
        self.params = params
        self.configure_kwargs = {k: v for k, v in kwargs.items() if k != "filters"}
        self.configured = True
        if self.node is not None and hasattr(self.node, "after_output_configure"):
            self.node.after_output_configure(self.name)

    # -- sending -------------------------------------------------------------
    @property
    def index(self) -> int:
        """Absolute count of samples sent so far (including any pending chunk)."""
        return self._index

    @property
    def n_inputs(self) -> int:
        """Number of inputs currently connected."""
        return self._publisher.n_inputs if self._publisher else 0

    def send(self, data: ArrayLike, index: int | None = None, time: float | None = None) -> None:
        """Send a chunk (time on axis 0); ``index`` is the absolute count after it.

        ``index`` larger than the running count leaves a gap that inputs report.
        ``time``: when the chunk's last sample was taken, on this process's clock
        (:func:`clock.now`'s); None: now.  A dtype or sample-shape mismatch raises ValueError.
        """
        if not self.configured:
            raise StreamError(f"{f'output {self.name!r}' if self.name else 'an unnamed output'} "
                              "is not configured; call configure() first")
        if time is not None:
            time = _check_time(time, self._label())
        for f in self.filters:
            data = f(data)
        data = np.asarray(data)
        if self._packets:
            packets.check_chunk(data, self._label())      # one packet: one frame of the index
        if self._video and self._sample_shape is not None and data.ndim == len(self._sample_shape):
            data = data[np.newaxis]
        if data.dtype != self._dtype:
            raise ValueError(f"{self._label()}: chunk dtype {data.dtype} does not match the "
                             f"stream dtype {self._dtype} (cast it, or add a filter)")
        if (self._sample_shape is not None and data.shape[1:] != self._sample_shape) or \
                data.ndim == 0 or (self._ndim is not None and data.ndim != self._ndim):
            raise ValueError(f"{self._label()}: chunk shape {data.shape} does not match the "
                             f"stream shape {self.params['shape']} (time axis first)")
        if data.nbytes < self._hwm_chunk_bytes:
            self._fit_queue(data.nbytes)
        n = data.shape[0]
        end = self._index + self._pending_n + n if index is None else int(index)
        if end < self._index + self._pending_n + n:
            raise ValueError(f"output {self.name or ''}: index {end} goes backwards (already sent "
                             f"{self._index + self._pending_n} samples, this chunk has {n})")
        if not self._chunksize:
            self._send_chunk(data, end, time)
            return
        if self._pending and end - n != self._index + self._pending_n:
            self._flush()               # a gap: send what came before it on its own
        if not self._pending:
            self._index = end - n
        self._pending.append(data)
        self._pending_n += n
        self._pending_time = time
        if self._pending_n >= self._chunksize:
            self._flush()

    def _fit_queue(self, chunk_bytes: int) -> None:
        """Drop mode: chunks smaller than planned lengthen the queue (in messages) up to
        ``max_queue_bytes``; it is never shortened (see ASSUMED_CHUNK_BYTES)."""
        self._hwm_chunk_bytes = chunk_bytes
        if self._hwm_user is None:
            hwm = queue_hwm(self.params["max_queue_bytes"], chunk_bytes)
        else:
            hwm = min(self._hwm_user, queue_hwm(self.params["max_queue_bytes"], chunk_bytes, None))
        if hwm > self.params["hwm"] and self._publisher is not None:
            self.params["hwm"] = hwm
            self._publisher.set_hwm(hwm)

    def advance_to(self, index: int) -> None:
        """Continue counting from absolute ``index`` (never backwards), e.g. when a
        rebuilt node takes over from one that crashed: inputs see a gap, not a rewind."""
        index = int(index)
        if index < self._index + self._pending_n:
            raise ValueError(f"output {self.name or ''}: cannot move back from index "
                             f"{self._index + self._pending_n} to {index}")
        self.flush()
        self._index = index
        if self._ring is not None and self._ring.index() < index:
            self._ring.reset_index(index)
        if self._publisher is not None:
            self._publisher.set_position(self._seq, index)

    def flush(self) -> None:
        """Send what chunking holds back, even if shorter than ``chunksize``."""
        if self._pending:
            self._flush()

    def _flush(self) -> None:
        chunk = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending)
        end = self._index + self._pending_n
        self._pending, self._pending_n = [], 0
        self._send_chunk(chunk, end, self._pending_time)

    def _send_chunk(self, data: np.ndarray, end: int, sample_time: float | None = None) -> None:
        n = data.shape[0]
        publisher = self._publisher
        if publisher is None:
            raise StreamError(f"{self._label()} is closed")
        self._seq += 1
        if self._ring is None:
            data = np.ascontiguousarray(data)
            header = pack_header(DATA, self._seq, end, n, clock.now(), self._dtype_spec, data.shape,
                                 self._packb, sample_time)
            publisher.send(header, data, (self._seq, end))
        else:
            if n > self._ring.size:
                raise ValueError(f"chunk of {n} samples does not fit the shared ring "
                                 f"(buffer_size={self._ring.size})")
            seq, slots, wake = self._seq, self._slots, self._wake
            assert slots is not None and wake is not None      # made with the ring
            if publisher.block:     # nor the data nor the record a reader still needs
                needed, old = end - self._ring.size, wake.index_to_overwrite(seq)
                slots.wait_until(old if old > needed else needed, self._unconfigured)
            self._ring.append(data, end)             # dtype and shape checked in send()
            t = clock.now()
            wake.publish(seq, end, n, t, sample_time)    # same-host inputs: records + wake-up
            publisher.announce(lambda: pack_header(SHARED, seq, end, n, t, self._dtype_spec,
                                                   data.shape, self._packb, sample_time),
                               (seq, end))
        self._index = end
        self.sent_chunks += 1
        self.sent_samples += n

    def _unconfigured(self) -> bool:
        """Whether close() was called (a blocked send stops waiting)."""
        return not self.configured

    def _label(self) -> str:
        """How errors name this output: by name when it has one."""
        return f"output {self.name}" if self.name else "output"

    # -- teardown ------------------------------------------------------------
    def close(self, timeout: float = CLOSE_TIMEOUT_MS) -> None:
        """Tell inputs the stream ended, close the socket and free shared memory.

        Waits up to ``timeout`` ms (streams' unit, as ``recv``/``poll``) for connected inputs to acknowledge the end of
        the stream (an input that is not reading cannot).  The absolute index is
        kept, so configure() + send() continue from it.
        """
        if not self.configured:
            return
        self.flush()
        self.configured = False
        if self._publisher is not None:
            self._publisher.close(pack_header(CLOSED, self._seq + 1, self._index, 0, clock.now(), None, ()),
                                  timeout)
        self._publisher = None
        if self._ring is not None:
            if self._wake is not None:
                self._wake.close()
            self._wake = None
            self._ring.close()
            self._ring = self._slots = None

    @property
    def last_index(self) -> int:
        """pyacq's name for :attr:`index`: absolute count of samples sent."""
        return self._index

    def reset_buffer_index(self) -> None:
        """pyacq compatibility: no-op, indexes stay absolute across restarts."""

    def __repr__(self) -> str:
        state = self.params.get("url", "not configured")
        return f"<OutputStream {self.name or ''} {state} sent={self.sent_samples}>"

