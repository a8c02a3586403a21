"""pyacq.core.stream.stream: acqflow's streams taking pyacq's arguments.

Differences kept only for pyacq code (docs/pyacq.md lists them):

- ``shape`` with a fixed first axis (pyacq: the chunk length, never enforced) is
  taken as ``-1``; ``buffer_size=0`` means "none"; ``compression`` may only be ''
  (``compression_methods == ['']``: acqflow does not compress).
- pyacq 0.1's ``timeaxis`` is dropped (acqflow streams are time first; a (channels, -1)
  shape with ``timeaxis=1`` becomes (-1, channels)), its ``transfermode='sharedarray'`` is
  sharedmem, and its ``send(index, data)`` order is taken too.
- pyacq's images, an 'analogsignal' of uint8 shaped (-1, w, colours) whose chunks are
  one image each, are a 'video' stream of frames of any size (one frame per chunk).
- ``streamtype='analogsignal'`` with a structured dtype is an 'event' stream, and
  'image'/'image/video' are 'video'.
- ``InputStream.set_buffer`` reuses the output's shared ring when it is large
  enough (pyacq's ``_own_buffer``/``receiver.buffer``), and a buffer it creates
  reads never-written samples as the fill value (pyacq's RingBuffer).
"""
from __future__ import annotations

import numpy as np

from acqflow.dataflow.streams.inputstream import InputStream as _InputStream
from acqflow.dataflow.streams.outputstream import OutputStream as _OutputStream
from acqflow.dataflow.paramcheck import must_be
from acqflow.dataflow.streams.spec import make_dtype, short

from .ringbuffer import RingBuffer
from .streamhelpers import DataReceiver

__all__ = ["OutputStream", "InputStream", "default_stream", "compression_methods"]

compression_methods = [""]

default_stream = dict(protocol="tcp", interface="127.0.0.1", port="*", transfermode="plaindata",
                      streamtype="analogsignal", dtype="float32", shape=(-1, 1), axisorder=None,
                      buffer_size=0, compression="", scale=None, offset=None, units="",
                      sample_rate=1.0, double=False, fill=None)

_VIDEO_NAMES = ("image", "image/video", "video")


def from_pyacq(params: dict) -> dict:
    """pyacq's configure() arguments as acqflow's (see the module docstring)."""
    p = dict(params)
    comp = p.get("compression", "")
    if comp not in ("", None):
        raise ValueError(f"compression={short(comp)} is not supported: acqflow streams are "
                         f"not compressed (compression_methods == [''])")
    timeaxis = p.pop("timeaxis", 0)
    if timeaxis not in (0, 1):
        must_be("timeaxis", "0 or 1", timeaxis)
    if p.get("transfermode") == "sharedarray":       # pyacq 0.1's name for sharedmem
        p = _from_sharedarray(p, timeaxis)
    shape = p.get("shape")
    if shape is not None and not isinstance(shape, (str, bytes)) and len(shape) \
            and shape[0] not in (-1, None):
        p["shape"] = (-1,) + tuple(shape[1:])
    if p.get("buffer_size") == 0:
        p["buffer_size"] = None
    if is_image_stream(p):
        p["streamtype"], p["shape"] = "video", None     # frames of any size, one per chunk
    if p.get("streamtype") in _VIDEO_NAMES:
        p["streamtype"] = "video"
    elif p.get("streamtype", "analogsignal") == "analogsignal" and "dtype" in p:
        try:
            structured = make_dtype(p["dtype"]).fields is not None
        except TypeError:
            structured = False          # configure() names the bad dtype
        if structured:
            p["streamtype"] = "event"
    return p


def is_image_stream(params: dict) -> bool:
    """pyacq's image stream: an 'analogsignal' of uint8 shaped (-1, w, colours), each chunk
    being one image (its rows on the first axis)."""
    shape = params.get("shape")
    if params.get("streamtype", "analogsignal") != "analogsignal" or shape is None or \
            isinstance(shape, (str, bytes)) or len(shape) != 3:
        return False
    try:
        return make_dtype(params.get("dtype", "float32")) == np.uint8
    except TypeError:
        return False


def _from_sharedarray(p: dict, timeaxis: int) -> dict:
    """pyacq 0.1's ``transfermode='sharedarray'`` (``sharedarray_shape``, ``timeaxis``,
    ``ring_buffer_method``) as acqflow's sharedmem ring, time first."""
    p["transfermode"] = "sharedmem"
    ring_shape = p.pop("sharedarray_shape", None)
    method = p.pop("ring_buffer_method", None)
    shape = p.get("shape")
    if timeaxis == 1 and shape is not None and len(shape) == 2 and shape[1] in (-1, None):
        p["shape"] = (-1, shape[0])          # pyacq's (channels, -1): time first here
    if ring_shape is not None:
        p["buffer_size"] = int(ring_shape[timeaxis])
    if method is not None:
        p["double"] = method == "double"
    return p


class OutputStream(_OutputStream):
    """acqflow's OutputStream; ``configure`` also takes pyacq's arguments, ``send`` pyacq
    0.1's order ``send(index, data)`` too."""

    _images = False

    def configure(self, **kwargs) -> None:
        params = {**self.spec, **kwargs}
        super().configure(**from_pyacq(params))
        self._images = is_image_stream(params)

    def send(self, data, index=None, time=None) -> None:
        """Send a chunk: ``send(data, index=None, time=None)``, or pyacq 0.1's
        ``send(index, data)``.  On a pyacq image stream each chunk is one frame, counted by
        the stream (pyacq's ``index`` there is the sender's buffer position)."""
        if isinstance(data, (int, np.integer)) and not isinstance(data, bool) \
                and isinstance(index, np.ndarray):
            data, index = index, int(data)
        if self._images:
            data, index = np.asarray(data)[np.newaxis], None
        super().send(data, index=index, time=time)


class InputStream(_InputStream):
    """acqflow's InputStream with pyacq's ``receiver``, ``_own_buffer`` and set_buffer()."""

    def __init__(self, spec=None, node=None, name=None):
        super().__init__(spec, node, name)
        self._own_buffer = False

    @property
    def socket(self) -> "_PollOnlySocket":
        """pyacq's ``input.socket``: only ``poll(timeout_ms)`` is offered, readable on data
        or end-of-stream only (heartbeats and malformed messages are handled by the stream)."""
        return _PollOnlySocket(self)

    @property
    def receiver(self) -> DataReceiver:
        """pyacq's receiver: only ``buffer`` (the output's shared ring, or None) is real."""
        return DataReceiver(None, self.params, buffer=self._shm)

    def set_buffer(self, size=None, double=True, axisorder=None,  # type: ignore[override]  # pyacq's arguments
                   shmem=None, fill=None) -> None:
        """Keep at least ``size`` samples: the output's shared ring when it fits, else a
        local RingBuffer (pyacq's fill semantics)."""
        shm = self._shm
        if shm is not None and shm.size >= size and shm.double == bool(double) and \
                (axisorder is None or tuple(shm.axisorder) == tuple(axisorder)):
            self._buffer = None
            self._own_buffer = False
            return
        if not self.connected or self._shape is None:
            super().set_buffer(size, double=double, axisorder=axisorder, fill=fill)  # names it
        assert self._shape is not None
        shape = (int(size),) + tuple(self._shape[1:])
        self._buffer = RingBuffer(shape, self._dtype, double=double, shmem=shmem, fill=fill,
                                  axisorder=axisorder)
        if self._last_index is not None:
            self._buffer.reset_index(self._last_index)
        self._own_buffer = True


class _PollOnlySocket:
    """What pyacq code does with ``InputStream.socket``: ``poll(timeout)`` before ``recv()``."""

    def __init__(self, stream: _InputStream):
        self._stream = stream

    def poll(self, timeout: float | None = None, flags: int = 1) -> int:
        """zmq's event mask: POLLIN (1) when a chunk or the end is ready within ``timeout`` ms."""
        return 1 if self._stream.poll(timeout) else 0
