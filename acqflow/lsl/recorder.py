"""LSLRecorder and record(): every visible LSL stream into one crash-safe recording.

LabRecorder's behaviour on acqflow's storage: streams are resolved at start (all, or those
whose name contains one of ``match``), each pulled on its own thread with its LSL stamps and
``time_correction()`` offsets; with ``watch`` a resolver adds streams that appear later; a lost
stream is sought again and continues after a gap when its outlet comes back.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any, Callable, Iterable

from ..storage.writer import RecordingWriter
from .capture import StreamCapture, stream_key
from .info import clock_offset, pylsl

__all__ = ["LSLRecorder", "record"]

log = logging.getLogger(__name__)


def _matches(info, match: Iterable[str] | None) -> bool:
    match = list(match or [])
    return not match or any(m in info.name() for m in match)


class LSLRecorder:
    """Records LSL streams into the recording at ``out`` until :meth:`close`.

    ``match``: name substrings (any); ``watch``: add streams that appear later;
    ``sync_interval``: seconds between clock-offset measurements (LabRecorder: 5);
    ``label_size``: bytes kept per marker label (longer ones are truncated and counted).
    """

    def __init__(self, out: str | os.PathLike, match: Iterable[str] | None = None,
                 watch: bool = False, *, mode: str = "create", sync_interval: float = 5.0,
                 label_size: int = 256, max_buflen: int = 360,
                 metadata: dict[str, Any] | None = None, fsync: str = "block",
                 on_stream: Callable[[StreamCapture], None] | None = None):
        lsl = pylsl()
        self.match = list(match or [])
        self.watch = watch
        self.on_stream = on_stream
        self._opts: dict[str, Any] = dict(sync_interval=sync_interval, label_size=label_size,
                          max_buflen=max_buflen)
        meta = {"lsl_recorder": {"hostname": socket.gethostname(), "match": self.match,
                                 "watch": watch, "sync_interval": sync_interval,
                                 "library": lsl.library_info(),
                                 "lsl_clock_at_start": lsl.local_clock(),
                                 "acqflow_clock_minus_lsl": clock_offset()}}
        meta.update(metadata or {})
        self.writer = RecordingWriter(out, mode, fsync=fsync, metadata=meta)
        self.path = self.writer.path
        self.captures: list[StreamCapture] = []
        self._mlock = threading.Lock()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._resolver: Any = None       # a pylsl ContinuousResolver once started
        self._thread: threading.Thread | None = None
        self.started = time.monotonic()

    # -- streams --------------------------------------------------------------------------
    def _name_for(self, info) -> str:
        taken = {c.name for c in self.captures}
        base = info.name() or "lsl"
        name = base if base not in taken else f"{base} ({info.hostname()})"
        k = 2
        while name in taken:
            name, k = f"{base}-{k}", k + 1
        return name

    def _consider(self, info) -> None:
        """Attach a resolved stream: new (when wanted) or a lost one coming back."""
        if not _matches(info, self.match):
            return
        with self._lock:
            if self._closed.is_set():
                return
            key = stream_key(info)
            same = [c for c in self.captures if c.key == key]
            if any(info.uid() in c.uids for c in same):
                return                                   # already recorded / a dead instance
            back = [c for c in same if c.lost]
            if back:
                try:
                    back[0].reattach(info)
                    log.info("LSL stream %r is back (uid %s)", back[0].name, info.uid())
                except Exception as exc:             # not answering yet: next round
                    log.debug("reattach of %r failed: %r", back[0].name, exc)
                return
            if self._thread is not None and not self.watch:
                return                                   # a new stream, not watching
            try:
                cap = StreamCapture(self.writer, info, self._name_for(info), self._mlock,
                                    **self._opts)
            except ValueError as exc:
                log.warning("not recording LSL stream %r: %s", info.name(), exc)
                return
            except Exception as exc:                     # vanished while opening
                log.warning("could not open LSL stream %r: %r", info.name(), exc)
                return
            self.captures.append(cap)
            cap.start()
            log.info("recording LSL stream %r (%s, %d ch, %g Hz) as %r", info.name(),
                     info.type(), info.channel_count(), info.nominal_srate(), cap.name)
        if self.on_stream is not None:
            self.on_stream(cap)

    def start(self, wait: float = 2.0) -> "LSLRecorder":
        """Resolve what is visible now (``wait`` s), start recording it, start the resolver."""
        lsl = pylsl()
        for info in lsl.resolve_streams(wait_time=wait):
            self._consider(info)
        if self.captures:
            self.writer.publish()        # overwrite: the old recording is replaced now
        self._resolver = lsl.ContinuousResolver(forget_after=5.0)
        self._thread = threading.Thread(target=self._resolve_loop, name="lsl-resolver",
                                        daemon=True)
        self._thread.start()
        return self

    def _resolve_loop(self) -> None:
        while not self._closed.wait(0.5):
            want_new = self.watch
            if not want_new and not any(c.lost for c in self.captures):
                continue
            try:
                found = self._resolver.results()
            except Exception:                             # pragma: no cover
                log.exception("LSL resolver failed")
                continue
            for info in found:
                if self._closed.is_set():
                    return
                self._consider(info)

    # -- running ----------------------------------------------------------------------------
    def wait(self, duration: float | None = None, stop: threading.Event | None = None) -> None:
        """Block for ``duration`` s (None: until ``stop`` is set or KeyboardInterrupt)."""
        deadline = None if duration is None else time.monotonic() + duration
        stop = stop or threading.Event()
        while not stop.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            stop.wait(0.2 if left is None else min(0.2, left))
            for c in self.captures:
                if c.error is not None:
                    raise RuntimeError(f"LSL capture of {c.name!r} failed: {c.error!r}"
                                       ) from c.error

    def _stop(self) -> None:
        with self._lock:
            self._closed.set()
        if self._thread is not None:
            self._thread.join(5.0)
        for c in self.captures:
            c.stop()

    def close(self) -> dict[str, Any]:
        """Stop every capture and commit the recording; returns :meth:`summary`."""
        self._stop()
        with self._mlock:
            self.writer.close()
        return self.summary()

    def abort(self) -> None:
        """Stop every capture and undo the recording (RecordingWriter.abort): what was
        at ``out`` before (an overwrite's old recording, an append's data) stays as it was."""
        self._stop()
        with self._mlock:
            if not self.writer.closed:
                self.writer.abort()

    def summary(self) -> dict[str, Any]:
        """Where, how long, and per stream: samples, reconnects, offsets measured."""
        return {"path": str(self.path), "duration_s": time.monotonic() - self.started,
                "streams": [c.summary() for c in self.captures],
                "writer": {k: v for k, v in self.writer.stats().as_dict().items() if k != "streams"}}

    def __enter__(self) -> "LSLRecorder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def record(out: str | os.PathLike, duration: float | None = None,
           match: Iterable[str] | None = None, watch: bool = False, *,
           stop: threading.Event | None = None, require_streams: bool = True,
           resolve_wait: float = 2.0, **kw: Any) -> dict[str, Any]:
    """Record every visible LSL stream (or those whose name contains a ``match``) into ``out``.

    Runs for ``duration`` s, or until ``stop`` is set, or until Ctrl-C; always leaves a
    committed recording and returns a summary.  Without ``watch``, RuntimeError when no
    stream is visible (``require_streams``): then ``out`` is left as it was (no new
    recording; an existing one, in mode overwrite or append, untouched).
    """
    rec = LSLRecorder(out, match, watch, **kw)
    try:
        rec.start(resolve_wait)
        if not rec.captures and not watch and require_streams:
            raise RuntimeError("no LSL stream " + (
                f"whose name contains {' or '.join(map(repr, rec.match))} "
                if rec.match else "") + f"was visible within {resolve_wait:g} s (use "
                "--watch to wait for streams)")
    except Exception:
        rec.abort()                      # nothing recorded: undo, delete nothing else
        raise
    except BaseException:                # Ctrl-C while resolving: keep what was captured
        rec.close()
        raise
    try:
        rec.wait(duration, stop)
    except KeyboardInterrupt:
        log.info("interrupted: closing the recording")
    finally:
        summary = rec.close()
    return summary
