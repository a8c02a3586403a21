"""What pyacq's recorders share: one input per stream, a thread per input, JSON side files."""
from __future__ import annotations

import json
import os
import threading
from typing import Any

import numpy as np

from .... import __version__
from ....dataflow.graph.configsig import passes_kwargs_to
from ....dataflow.streams.inputstream import InputStream
from ....dataflow.graph.node import Node
from ....dataflow.streams.spec import make_dtype
from ....dataflow.streams.threadpoll import ThreadPollInput
from ..core.states import PyacqStates

__all__ = ["StreamsRecorder", "flush_dict"]


def flush_dict(filename: str, d: dict) -> None:
    """Write ``d`` as pyacq does (sorted, indented JSON), atomically (no half-written file on a crash)."""
    tmp = filename + ".tmp"
    with open(tmp, mode="w", encoding="utf8") as f:
        f.write(json.dumps(d, sort_keys=True, indent=4, separators=(",", ": "), ensure_ascii=False))
    os.replace(tmp, filename)


def _json_dtype(dtype: Any):
    dt = make_dtype(dtype)
    return dt.name if dt.fields is None else [list(f) for f in dt.descr]


class StreamsRecorder(PyacqStates, Node):
    """Base of RawRecorder / AviRecorder: ``configure(streams, autoconnect=True, dirname=...)``
    makes one input per stream (named by ``_input_name(i)`` or the dict's keys), writes
    ``properties_file`` (per input: streamtype, dtype, shape, sample_rate, start_index)
    and ``annotations.json`` (``add_annotations``)."""

    _input_specs: dict = {}
    _output_specs: dict = {}
    properties_file = "stream_properties.json"
    _must_not_exist = True

    def __init__(self, name: str | None = None, **kwargs: Any):
        super().__init__(name=name)
        self._mutex = threading.Lock()
        self._annotations: dict = {}
        self.threads: list[ThreadPollInput] = []

    @passes_kwargs_to("_configure_recorder")
    def _configure(self, streams: Any = (), autoconnect: bool = True, dirname: str | None = None,
                   **kwargs: Any) -> None:
        if dirname is None:
            raise ValueError(f"{self.name}: dirname is required")
        if self._must_not_exist and os.path.exists(dirname):
            raise ValueError(f"{self.name}: dirname {str(dirname)[:200]!r} already exists")
        if isinstance(streams, dict):
            names, streams = list(streams.keys()), list(streams.values())
        else:
            streams = list(streams)
            names = [self._input_name(i) for i in range(len(streams))]
        self._configure_recorder(**kwargs)
        for inp in self.inputs.values():
            inp.close()
        self.inputs = {}
        for name, stream in zip(names, streams):
            inp = InputStream(spec={}, node=self, name=name)
            self.inputs[name] = inp
            if autoconnect:
                inp.connect(stream)
        self.streams, self.dirname = streams, str(dirname)

    def _configure_recorder(self) -> None:
        # recorder-specific keyword parameters (subclasses); configure() shows them
        pass

    @staticmethod
    def _input_name(i: int) -> str:
        return f"input{i}"

    # -- side files ----------------------------------------------------------
    def _init_properties(self) -> None:
        os.makedirs(self.dirname, exist_ok=not self._must_not_exist)
        self._stream_properties: dict[str, Any] = {}
        for name, inp in self.inputs.items():
            p = inp.params
            self._stream_properties[name] = {
                "streamtype": p["streamtype"], "dtype": _json_dtype(p["dtype"]),
                "shape": list(p["shape"]) if p.get("shape") is not None else None,
                "sample_rate": p.get("sample_rate")}
        self._stream_properties["pyacq_version"] = f"acqflow {__version__}"
        self._flush_stream_properties()

    def _set_property(self, name: str, key: str, value: Any) -> None:
        with self._mutex:
            self._stream_properties[name][key] = value
        self._flush_stream_properties()

    def _flush_stream_properties(self) -> None:
        with self._mutex:
            flush_dict(os.path.join(self.dirname, self.properties_file), self._stream_properties)

    def add_annotations(self, **kwargs: Any) -> None:
        """Add key/values to ``annotations.json`` (JSON-serialisable values)."""
        with self._mutex:
            self._annotations.update(kwargs)
            flush_dict(os.path.join(self.dirname, "annotations.json"), self._annotations)

    # -- threads -------------------------------------------------------------
    def _start_threads(self, handler) -> None:
        self.threads = []
        for name, inp in self.inputs.items():
            thread = ThreadPollInput(inp, return_data=True, name=f"{self.name} {name}",
                                     on_data=(lambda n: lambda pos, data: handler(n, pos, data))(name),
                                     on_error=self.set_error)
            self.threads.append(thread)
            thread.start()

    def _stop_threads(self, handler) -> None:
        """Stop the threads, then write what is still queued (nothing accepted is lost)."""
        for thread in self.threads:
            thread.stop()
        for thread in self.threads:
            thread.join(5.0)
        self.threads = []
        for name, inp in self.inputs.items():
            while inp.connected and inp.poll(200):
                try:
                    pos, data = inp.recv(timeout=200, return_data=True)
                except Exception:           # closed or nothing more: done with this input
                    break
                handler(name, pos, np.asarray(data))
