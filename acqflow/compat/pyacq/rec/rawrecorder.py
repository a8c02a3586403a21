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
from typing import Any

import numpy as np

from ....dataflow.registry import register_node_type
from ._common import FilesWriter, PyacqRecorder

__all__ = ["RawRecorder"]


class RawWriter(FilesWriter):
    """Appends each stream's samples to ``<name>.raw``; lost samples become zeros and ``gaps``."""

    def __init__(self, node: Any, dirname: str):
        super().__init__(node, dirname)
        self.files: dict[str, Any] = {}
        self._next: dict[str, int] = {}
        self._file_lock = threading.Lock()

    def add_stream(self, name: str, params: dict, codec: Any = None) -> None:
        super().add_stream(name, params, codec)
        self.files[name] = open(os.path.join(self.dirname, name + ".raw"), mode="wb")

    def write_samples(self, name: str, data: Any, index: int) -> None:
        data = np.asarray(data)
        start = int(index) - len(data)
        expected = self._next.get(name, start)
        if start > expected:                   # lost upstream: zeros, and said so
            with self._file_lock:
                self.files[name].write(np.zeros((start - expected,) + data.shape[1:], data.dtype).tobytes())
            gaps = self._properties[name].get("gaps", [])
            self.set_property(name, "gaps", gaps + [[expected, start]])
        elif start < expected:                 # already written (a resend): keep the new part only
            data = data[expected - start:]
        with self._file_lock:
            self.files[name].write(np.ascontiguousarray(data).tobytes())
        self._next[name] = int(index)

    def flush(self, timeout: float | None = None) -> None:
        with self._file_lock:
            for f in self.files.values():
                f.flush()

    def close(self) -> None:
        with self._file_lock:
            for f in self.files.values():
                f.close()
        super().close()


class RawRecorder(PyacqRecorder):
    """``configure(streams=[...], autoconnect=True, dirname=path)``; ``dirname`` must not exist."""

    writer_class = RawWriter


register_node_type(RawRecorder)
