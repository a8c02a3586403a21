"""What pyacq's recorders share: acqflow's Recorder with pyacq's ``configure()`` and a writer of
pyacq's files (one per stream, JSON side files) in place of acqflow's recording format."""
from __future__ import annotations

import json
import os
import threading
from typing import Any

from .... import __version__
from ....dataflow.streams.spec import make_dtype
from ....nodes.recorder import Recorder
from ..core.states import PyacqStates

__all__ = ["PyacqRecorder", "FilesWriter", "flush_dict"]


def flush_dict(filename: str, d: dict) -> None:
    """Write ``d`` as pyacq does (sorted, indented JSON), atomically (no half-written file on a crash)."""
    tmp = filename + ".tmp"
    with open(tmp, mode="w", encoding="utf8") as f:
        f.write(json.dumps(d, sort_keys=True, indent=4, separators=(",", ": "), ensure_ascii=False))
    os.replace(tmp, filename)


def _json_dtype(dtype: Any):
    dt = make_dtype(dtype)
    return dt.name if dt.fields is None else [list(f) for f in dt.descr]


class FilesWriter:
    """The writer acqflow's Recorder feeds (``add_stream``, ``publish``, ``write``, ``flush``,
    ``close``), writing pyacq's layout: ``properties_file`` (per stream: streamtype, dtype,
    shape, sample_rate, start_index) and ``annotations.json``; subclasses write the samples."""

    properties_file = "stream_properties.json"
    mode = "append"          # for the Recorder: closing never removes what is written
    closed = False

    def __init__(self, node: Any, dirname: str):
        self.node, self.dirname = node, dirname
        self.stats: dict[str, Any] = {}
        self._mutex = threading.Lock()
        self._properties: dict[str, Any] = {"pyacq_version": f"acqflow {__version__}"}
        self._annotations: dict[str, Any] = {}
        self._first: dict[str, bool] = {}
        os.makedirs(dirname, exist_ok=True)

    def add_stream(self, name: str, params: dict, codec: Any = None) -> None:
        """Describe stream ``name`` in the properties file."""
        self._first[name] = True
        self.set_property(name, None, {
            "streamtype": params["streamtype"], "dtype": _json_dtype(params["dtype"]),
            "shape": list(params["shape"]) if params.get("shape") is not None else None,
            "sample_rate": params.get("sample_rate")})

    def set_property(self, name: str, key: str | None, value: Any) -> None:
        """Set stream ``name``'s property ``key`` (None: all of them) and rewrite the file."""
        with self._mutex:
            if key is None:
                self._properties[name] = value
            else:
                self._properties[name][key] = value
            flush_dict(os.path.join(self.dirname, self.properties_file), self._properties)

    def add_annotations(self, **kwargs: Any) -> None:
        with self._mutex:
            self._annotations.update(kwargs)
            flush_dict(os.path.join(self.dirname, "annotations.json"), self._annotations)

    def takes_unchecked(self, name: str, params: dict[str, Any]) -> bool:
        """pyacq's files take every chunk through ``write_samples`` (see RecordingWriter)."""
        return False

    def write(self, name: str, data: Any, index: int, t: float | None, checked: bool = False) -> None:
        """Record a chunk ending at sample ``index``; the first sets ``start_index``."""
        if self._first[name]:
            self._first[name] = False
            self.set_property(name, "start_index", int(index) - len(data))
        self.write_samples(name, data, index)

    def write_samples(self, name: str, data: Any, index: int) -> None:
        raise NotImplementedError

    def set_stream_clock(self, name: str, info: dict, time_model: Any = None) -> None:
        """pyacq's files keep no clock."""

    def publish(self) -> None:
        """The files exist from initialize() on, as pyacq's."""

    def flush(self, timeout: float | None = None) -> None:
        """Everything written so far reaches the files (subclasses)."""

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        """Closed before recording: the files stay, as pyacq's."""
        self.close()


class PyacqRecorder(PyacqStates, Recorder):
    """Base of RawRecorder / AviRecorder: acqflow's Recorder configured pyacq's way,
    ``configure(streams, autoconnect=True, dirname=...)``: inputs named by ``_input_name(i)``
    (or the dict's keys), connected now when ``autoconnect``; ``add_annotations(**kw)``."""

    writer_class: type[FilesWriter] = FilesWriter
    _must_not_exist = True

    def _configure(self, streams: Any = (), autoconnect: bool = True, dirname: str | None = None  # type: ignore[override]  # pyacq's arguments
                   ) -> None:
        if dirname is None:
            raise ValueError(f"{self.name}: dirname is required")
        if self._must_not_exist and os.path.exists(dirname):
            raise ValueError(f"{self.name}: dirname {str(dirname)[:200]!r} already exists")
        if not isinstance(streams, dict):
            streams = {self._input_name(i): s for i, s in enumerate(streams)}
        if not autoconnect:
            streams = {name: {} for name in streams}       # inputs the caller connects
        super()._configure(streams=streams, dirname=dirname, mode="overwrite")
        self.streams, self.dirname = list(streams.values()), str(dirname)
        self._early_annotations: dict[str, Any] = {}     # given before the files exist

    def configure(self, **kwargs: Any) -> None:
        super().configure(**kwargs)
        self.config.pop("run", None)            # pyacq's configure() has no run

    @staticmethod
    def _input_name(i: int) -> str:
        return f"input{i}"

    def _open_writer(self) -> FilesWriter:  # type: ignore[override]  # duck-typed RecordingWriter
        writer = self.writer_class(self, self.dirname)
        if self._early_annotations:
            writer.add_annotations(**self._early_annotations)
        return writer

    def add_annotations(self, **kwargs: Any) -> None:
        """Add key/values to ``annotations.json`` (JSON-serialisable values); before
        ``initialize()`` too (as pyacq's), written when the files are made."""
        if isinstance(self.writer, FilesWriter):
            self.writer.add_annotations(**kwargs)
        else:
            self._early_annotations.update(kwargs)
