"""Recorder: a node that writes any number of input streams into a crash-safe recording.

pyacq's RawRecorder shape: ``configure(streams=[...], dirname=...)`` creates one
input per stream, connect them, ``initialize()`` opens the recording (stream
params go into its manifest), ``start()`` records, ``stop()`` seals what is
queued, ``close()`` commits.  Writing never blocks the inputs: chunks and the manifest's
clock updates go to the storage engine's bounded queue (:class:`acqflow.storage.RecordingWriter`),
whose thread does every file write; a full queue drops chunks, counted in ``stats()`` and
read back as gaps.
"""
from __future__ import annotations

import itertools
import logging
import os
import string
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from ..dataflow.streams import clock
from ..dataflow.errors import StreamClosed
from ..dataflow.streams.inputstream import InputStream
from ..dataflow.graph.node import Node
from ..dataflow import paramcheck as check
from ..dataflow.shortrepr import short_repr
from ..dataflow.streams.spec import recorded
from ..dataflow.streams.threadpoll import ThreadPollInput
from ..storage import RecordingExistsError, RecordingWriter
from ..storage.backends import local_path
from ..storage.stats import RecorderStats
from ..storage.target import recording_run
from ..storage.writer import MODES
from .recordtime import RecordedTimeModel, check_align

__all__ = ["Recorder", "recorded_params", "stream_clock_info", "expand_dirname"]

log = logging.getLogger(__name__)

CLOCK_UPDATE_S = 5.0      # how often the stored clock offset of each stream is refreshed
_HISTORY_MAX = 20000


def recorded_params(params: dict[str, Any]) -> dict[str, Any]:
    """What of a live stream's params goes into the manifest (transport params dropped,
    see spec.PARAMS; the source node/output names are kept under ``source``)."""
    out = recorded(params)
    source = {k: params[k] for k in ("node", "name") if params.get(k) is not None}
    if source:
        out["source"] = source
    return out


def stream_clock_info(params: dict[str, Any], history: list | None = None) -> dict[str, Any]:
    """The manifest ``clock_sync`` entry of a stream: which clock stamped it (``id``), the
    recorder's (``recorder_id``), and the estimated ``offset`` (source - recorder, s),
    ``uncertainty``, ``drift`` at ``t_ref``, plus the ``history`` of estimates as
    ``[t, offset, uncertainty]`` rows.  Offsets are None while unknown."""
    source = params.get("clock_id")
    info = dict(id=source, recorder_id=clock.clock_id(), offset=None,
                uncertainty=None, drift=None, t_ref=None)
    est = clock.relative(source) if source else clock.relative(clock.clock_id())
    if est is not None:
        info.update(offset=est.offset, uncertainty=est.uncertainty, drift=est.drift,
                    t_ref=est.t_ref)
        if history is not None and source and source != clock.clock_id():
            history.append([est.t_ref, est.offset, est.uncertainty])
            del history[:-_HISTORY_MAX]
    info["history"] = list(history or [])
    return info


PLACEHOLDERS = ("time", "date", "n", "run")


def _placeholders(text: str) -> set[str]:
    """The placeholders of a dirname; ValueError (one line) for an unknown one or a lone brace."""
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        raise ValueError(f"dirname {short_repr(text)}: {exc} (a literal brace is written "
                         "{{ or }})") from None
    unknown = sorted(fields - set(PLACEHOLDERS))
    if unknown:
        raise ValueError(f"dirname {short_repr(text)}: unknown placeholder "
                         f"{short_repr('{' + unknown[0] + '}')}; use "
                         + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS))
    return fields


def expand_dirname(dirname: str | os.PathLike, run: str, mode: str = "create") -> Path:
    """``dirname`` with its placeholders filled: ``{time}`` (local, ``20261207-091500``),
    ``{date}`` (``20261207``), ``{run}`` (the run id) and ``{n}`` (the first number from 1
    that names no existing path, like LabRecorder's ``%n``).  In 'create' mode a template
    never names an existing path: ``-2``, ``-3``... is appended until it does not."""
    text = os.fspath(dirname)
    fields = _placeholders(text)
    if not fields:
        return Path(text)
    now = time.localtime()
    values = dict(time=time.strftime("%Y%m%d-%H%M%S", now), date=time.strftime("%Y%m%d", now),
                  run=run)
    try:
        text.format(n=1, **values)
    except (ValueError, TypeError) as exc:      # e.g. a format spec: {time:03d}
        raise ValueError(f"dirname {short_repr(text)}: {exc}") from None
    numbers = itertools.count(1) if "n" in fields else iter([1])
    for n in numbers:
        path = Path(text.format(n=n, **values))
        if not os.path.lexists(path):
            return path
    if mode != "create":
        return path
    for k in itertools.count(2):
        if not os.path.lexists(path.with_name(f"{path.name}-{k}")):
            return path.with_name(f"{path.name}-{k}")
    raise AssertionError("unreachable")


def _is_output(obj: Any) -> bool:
    """An OutputStream, a proxy to one, or a connectable params dict (has 'url')."""
    return (isinstance(obj, dict) and "url" in obj) or \
        (not isinstance(obj, (dict, str)) and hasattr(obj, "params"))


def _output_name(obj: Any, default: str) -> str:
    params = obj if isinstance(obj, dict) else getattr(obj, "params", None)
    if isinstance(params, dict) and params.get("name"):
        return str(params["name"])
    return str(getattr(obj, "name", None) or default)


class Recorder(Node):
    """Records every input into one recording directory (see docs/recording.md)."""

    _input_specs: dict[str, dict] = {}

    def __init__(self, name: str | None = None):
        super().__init__(name=name)
        self.writer: RecordingWriter | None = None
        self._pollers: dict[str, ThreadPollInput] = {}
        self._to_connect: dict[str, Any] = {}
        self._ended: set[str] = set()
        self._clock_history: dict[str, list] = {}
        self._clock_updated = 0.0
        self._clock_lock = threading.Lock()
        self._continued = False
        self._started = False
        self._resent: dict[str, int] = {}       # samples re-sent after a rebuild, dropped
        self._fits: dict[str, RecordedTimeModel] = {}

    @classmethod
    def check_config(cls, params: dict) -> list[str]:
        """Problems with ``params`` found without creating the node (``acqflow run --check``):
        an unknown placeholder in ``dirname``."""
        dirname = params.get("dirname")
        try:
            if isinstance(dirname, (str, os.PathLike)):
                _placeholders(os.fspath(dirname))
        except ValueError as exc:
            return [f"params.dirname: {exc}"]
        return []

    def _configure(self, streams: list | dict | None = None, dirname: str | os.PathLike = "",
                   mode: str = "create", block_s: float = 1.0, block_bytes: int = 4 << 20,
                   fsync: str = "block", fsync_interval: float = 1.0,
                   segment_bytes: int = 256 << 20, queue_chunks: int = 4096,
                   queue_bytes: int = 256 << 20, codecs: dict[str, Any] | None = None,
                   metadata: dict[str, Any] | None = None,
                   on_seal: Callable | None = None, run: str | None = None,
                   align: dict[str, Any] | None = None) -> None:
        """Parameters:

        streams: input names (``['sig', 'events']``), a dict name -> input spec or
            name -> output to connect now, or a list of outputs (named after them).
        dirname: recording directory; may hold ``{time}``, ``{date}``, ``{n}`` or ``{run}``
            (:func:`expand_dirname`), filled once per run: a rebuild keeps the name.
            mode: 'create' (refuses an existing path),
            'overwrite' or 'append' (continues a recording, streams must match).
        block_s / block_bytes: seal a block after this time or size.
        fsync: 'block', 'interval' (every ``fsync_interval`` s) or 'none'.
        queue_chunks / queue_bytes: bound of the writer queue (overflow drops, counted).
        codecs: per-stream video codec, e.g. ``{'cam': 'png'}``, ``{'cam':
            {'name': 'jpg', 'quality': 85}}`` or compressed ``{'cam': {'name': 'h264',
            'crf': 23, 'gop': 30, 'preset': 'ultrafast'}}`` (also hevc, ffv1; see
            docs/recording.md#video; default: raw frames).
        metadata: free JSON metadata for the manifest.  on_seal: callback(BlockInfo)
            from the writer thread after each sealed block (same process only).
        run: id stored in the recording's manifest (default: a new one, kept in the
            node's config).  A Recorder configured with the run of an existing recording
            continues it whatever ``mode`` says: a rebuilt Recorder (group restart)
            appends to the recording it was writing, its downtime a gap.
        align: align the streams' clocks through shared sync lines when the recording
            closes, as ``acqflow rec align`` does: ``{'lines': ['eeg:7', 'cam:mean'],
            'reference': 'eeg', 'barcodes': False, 'same': ['aux=eeg']}``.  A failure is
            logged (and kept in ``alignment``); the recording itself is unaffected.
        """
        if not dirname:
            raise ValueError(f"{self.name}: dirname is required")
        check.one_of(*MODES)(f"{self.name}: mode", mode)
        if run is not None:
            check.non_empty_str(f"{self.name}: run", run)
        run = run or uuid.uuid4().hex
        path = local_path(expand_dirname(dirname, run, mode)).absolute()
        if mode == "create" and path.exists() and recording_run(path) != run:
            raise RecordingExistsError(f"{path} exists; use mode='overwrite' or 'append'")
        entries = self._stream_entries(streams)
        codecs = dict(codecs or {})
        unknown = set(codecs) - {name for name, _, _ in entries}
        if unknown:
            raise ValueError(f"{self.name}: codecs for unknown streams {sorted(unknown)}")
        for inp in self.inputs.values():
            inp.close()
        self.inputs = {name: InputStream(spec=spec, node=self, name=name)
                       for name, spec, _ in entries}
        self._to_connect = {name: out for name, _, out in entries if out is not None}
        self.path: Path = path
        self.run = run
        self.codecs = codecs
        self._align = check_align(align, [name for name, _, _ in entries], self.name)
        self.alignment: dict[str, Any] | str | None = None   # result (or error) at close
        self._writer_kw: dict[str, Any] = dict(mode=mode, block_s=block_s, block_bytes=block_bytes,
                               fsync=fsync, fsync_interval=fsync_interval,
                               segment_bytes=segment_bytes, queue_chunks=queue_chunks,
                               queue_bytes=queue_bytes, metadata=metadata, on_seal=on_seal)
        for name, out in self._to_connect.items():
            self.inputs[name].connect(out)

    def configure(self, **kwargs: Any) -> None:
        """Set parameters; the config keeps the run id and the expanded dirname, so a
        rebuild continues the recording."""
        super().configure(**kwargs)
        self.config.update(run=self.run, dirname=str(self.path))

    def _stream_entries(self, streams: Any) -> list[tuple[str, dict, Any]]:
        """(input name, spec, output to connect or None) for each stream."""
        if isinstance(streams, dict):
            items = list(streams.items())
        elif isinstance(streams, (list, tuple)):
            items = []
            for i, s in enumerate(streams):
                items.append((s, None) if isinstance(s, str) else (_output_name(s, f"in{i}"), s))
        else:
            check.must_be(f"{self.name}: streams", "a list of names/outputs or a dict", streams, TypeError)
        if not items:
            raise ValueError(f"{self.name}: nothing to record (streams is empty)")
        out = []
        for name, value in items:
            check.non_empty_str(f"{self.name}: a stream name", name)
            if value is None or (isinstance(value, dict) and not _is_output(value)):
                out.append((name, dict(value or {}), None))
            elif _is_output(value):
                out.append((name, {}, value))
            else:
                raise TypeError(f"{self.name}: stream {name!r}: expected a spec dict or an "
                                f"output, got {value!r}")
        if len({n for n, _, _ in out}) != len(out):
            raise ValueError(f"{self.name}: duplicate stream names in {[n for n, _, _ in out]}")
        return out

    # -- life-cycle ------------------------------------------------------------
    def _initialize(self) -> None:
        for name, inp in self.inputs.items():
            if inp.params.get("shape") is None and inp.params.get("streamtype") != "packets":
                raise ValueError(f"{self.name}: input {name!r} is connected to an output "
                                 "without a fixed shape; configure it with shape=(-1, ...)")
        self._continued = recording_run(self.path) == self.run    # rebuilt: carry on
        # deferred: the recording appears at start(); a start-up killed before leaves none
        self.writer = self._open_writer()
        try:
            for name, inp in self.inputs.items():
                self.writer.add_stream(name, recorded_params(inp.params),
                                       codec=self.codecs.get(name))
            self._clock_history = {name: [] for name in self.inputs}
            self._fits = {name: RecordedTimeModel(inp, CLOCK_UPDATE_S) for name, inp in self.inputs.items()}
            self._update_clocks()
        except BaseException:
            self.writer.abort()      # removes only what it created
            self.writer = None
            raise

    def _open_writer(self) -> RecordingWriter:
        """The writer the inputs' chunks go to (pyacq's recorders, in acqflow.compat, give
        one writing pyacq's files with the same methods)."""
        return RecordingWriter(self.path, run=self.run, deferred=True, **self._writer_kw)

    def _start(self) -> None:
        assert self.writer is not None       # (made by initialize())
        self.writer.publish()        # the recording appears (overwrite: replaces the old one)
        self._started = True
        for name, inp in self.inputs.items():
            poller = ThreadPollInput(inp, timeout=100, return_data=True,
                                     name=f"{self.name} {name}", on_data=self._writer_for(name, inp))
            poller.on_error = self.set_error
            self._pollers[name] = poller
            poller.start()

    def _update_clocks(self) -> None:
        """Store each stream's current clock offset estimate in the manifest (the writer's
        thread writes it: this never waits on a file)."""
        if not self._clock_lock.acquire(blocking=False):
            return                      # another input's thread is doing it
        try:
            self._clock_updated = clock.now()
            if self.writer is None or self.writer.closed:
                return
            for name, inp in self.inputs.items():
                try:
                    fit = self._fits.get(name)
                    self.writer.set_stream_clock(name, stream_clock_info(
                        inp.params, self._clock_history.setdefault(name, [])),
                        time_model=fit.info if fit is not None else None)
                except Exception as exc:
                    log.warning("%s: could not store the clock offset of %r: %s",
                                self.name, name, exc)
        finally:
            self._clock_lock.release()

    def _note_fits(self) -> None:
        """The last fit of every stream (the pollers have stopped: no other thread feeds them)."""
        for fit in self._fits.values():
            fit.note()

    def _writer_for(self, name: str, inp: InputStream) -> Callable[[int, Any], None]:
        writer = self.writer
        assert writer is not None            # (made by initialize())
        # The input checked each chunk against its params where it came off the wire, and
        # what it returns is never modified: when the recorded stream has the same dtype and
        # sample shape (not so after a reconnect to another output) and no filter ran, the
        # writer takes the chunk as it is, neither checked nor copied again.
        same = writer.takes_unchecked(name, inp.params)

        def process_data(index: int, data: Any) -> None:
            # The chunk's time: when its last sample was taken, on the source's clock
            # (the manifest holds the offset to the recorder's clock, and the fitted model).
            t = inp.last_sample_time if inp.last_sample_time is not None else clock.now()
            if self._continued:
                data = self._trim_resent(name, index, data)
                if not len(data):
                    return
            writer.write(name, data, index, t, checked=same and not inp.filters)
            if name in self._fits:
                self._fits[name].update(index, t)
            if clock.now() - self._clock_updated > CLOCK_UPDATE_S:
                self._update_clocks()
        return process_data

    def _trim_resent(self, name: str, index: int, data: Any) -> Any:
        """A source rebuilt with this Recorder (same group) resumes from its last
        snapshot and re-sends indexes already recorded: keep the recorded ones."""
        assert self.writer is not None
        start, done = index - len(data), self.writer.stream_stop(name)
        if start >= done:
            return data
        cut = min(done - start, len(data))
        if not self._resent.get(name):
            log.warning("%s: %r re-sent samples [%d:%d] already recorded (its source was "
                        "rebuilt); keeping the recorded ones", self.name, name, start, done)
        self._resent[name] = self._resent.get(name, 0) + cut
        return data[cut:]

    def _stop_pollers(self) -> None:
        pollers, self._pollers = self._pollers, {}
        for p in pollers.values():
            p.stop()
        for name, p in pollers.items():
            p.join()
            if p.closed:
                self._ended.add(name)

    def _drain(self) -> None:
        """Record what has already arrived at the inputs (after the pollers ended)."""
        for name, inp in self.inputs.items():
            if name in self._ended or not inp.connected:
                continue
            write = self._writer_for(name, inp)
            try:
                while inp.poll(0):
                    write(*inp.recv(timeout=0, return_data=True))
            except StreamClosed:
                self._ended.add(name)
            except TimeoutError:
                pass

    def _stop(self) -> None:
        self._stop_pollers()
        if self.writer is not None and not self.writer.closed:
            self._drain()
            self._note_fits()
            self._update_clocks()
            self.writer.flush()

    def _close(self) -> None:
        self._stop_pollers()
        if self.writer is None or self.writer.closed:
            return
        if not self._started and not self._continued and self.writer.mode != "append":
            log.info("%s: closed without ever starting; no recording made at %s%s", self.name,
                     self.path, " (the one there is kept)" if self.writer.mode == "overwrite" else "")
            self.writer.abort()      # nothing recorded: an overwrite replaces nothing
            return
        self._note_fits()
        self._update_clocks()
        self.writer.close()
        if self._align is not None:
            self._align_at_close()

    def _align_at_close(self) -> None:
        from ..storage import open_recording
        from ..storage.align import align_recording
        assert self._align is not None           # (called only with one)
        try:
            self.alignment = align_recording(open_recording(self.path), **self._align)
        except Exception as exc:
            self.alignment = f"{type(exc).__name__}: {exc}"
            log.warning("%s: aligning %s failed (%s); the recording is intact, align it with "
                        "`acqflow rec align`", self.name, self.path, self.alignment)

    # -- reporting -------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> None:
        """Seal what is queued now and wait until it is written."""
        if self.writer is not None:
            self.writer.flush(timeout)

    def stats(self) -> RecorderStats:
        """Writer counters (blocks, bytes, overflows, per-stream gaps and drops) and,
        per input, transport counters and whether its output has ended."""
        inputs = {}
        for name, inp in self.inputs.items():
            st = inp.stats().as_dict()
            poller = self._pollers.get(name)
            st.update(gap_log=list(inp.gap_log), resent=self._resent.get(name, 0),
                      ended=name in self._ended or bool(poller and poller.closed))
            inputs[name] = st
        writer = self.writer.stats() if self.writer is not None else None
        return RecorderStats(path=str(getattr(self, "path", "")), inputs=inputs, writer=writer,
                             overflows=writer.overflows if writer is not None else 0)
