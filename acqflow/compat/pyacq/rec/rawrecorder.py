"""pyacq's RawRecorder: each stream's samples as raw binary, with pyacq's JSON side files.

Layout of ``dirname`` (pyacq's): ``input{i}.raw`` (the samples, C order, the stream's
dtype, one after another), ``stream_properties.json`` ({input name: {streamtype, dtype,
shape, sample_rate, start_index}, 'pyacq_version': ...}) and ``annotations.json``.
acqflow adds ``gaps`` ([[from, to], ...] absolute indexes) to a stream's properties when
samples were lost upstream: they are written as zeros, so sample ``i`` is always at
row ``i - start_index`` of the file.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from ....dataflow.graph.registry import register_node_type
from ._common import StreamsRecorder

__all__ = ["RawRecorder"]


class RawRecorder(StreamsRecorder):
    """``configure(streams=[...], autoconnect=True, dirname=path)``; ``dirname`` must not exist."""

    def _initialize(self) -> None:
        self._init_properties()
        self.files = {name: open(os.path.join(self.dirname, name + ".raw"), mode="wb")
                      for name in self.inputs}
        self._next: dict[str, int | None] = {name: None for name in self.inputs}
        self._file_lock = threading.Lock()

    def _start(self) -> None:
        for name, f in list(self.files.items()):
            if f.closed:                       # started again after stop(): append
                self.files[name] = open(f.name, mode="ab")
        self._start_threads(self._write)

    def _write(self, name: str, pos: int, data: np.ndarray) -> None:
        data = np.asarray(data)
        start = int(pos) - len(data)
        expected = self._next[name]
        if expected is None:
            self._set_property(name, "start_index", start)
        elif start > expected:                 # lost upstream: zeros, and said so
            with self._file_lock:
                self.files[name].write(np.zeros((start - expected,) + data.shape[1:], data.dtype).tobytes())
            gaps = self._stream_properties[name].setdefault("gaps", [])
            self._set_property(name, "gaps", gaps + [[expected, start]])
        elif start < expected:                 # already written (a resend): keep the new part only
            data = data[expected - start:]
        with self._file_lock:
            self.files[name].write(np.ascontiguousarray(data).tobytes())
        self._next[name] = int(pos)

    def _stop(self) -> None:
        self._stop_threads(self._write)
        for f in self.files.values():
            f.close()

    def _close(self) -> None:
        for f in getattr(self, "files", {}).values():
            f.close()


register_node_type(RawRecorder)
