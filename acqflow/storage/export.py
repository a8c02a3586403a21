"""Export a stored stream to .npy, .csv or .wav, streaming chunk by chunk
(MP4/AVI: :mod:`.export_video`; HDF5: :mod:`.export_hdf5`; NWB: :mod:`.export_nwb`).

``.npy`` holds ``[start, stop)`` exactly (gaps need ``fill``); ``.csv`` has one
row per stored sample with its absolute index and time (gaps show as jumps in
the index column); ``.wav`` (standard-library ``wave``) is for audio-like analog
streams with an integer sample rate.  A WAV file holds one fixed rate: a stream whose
times step off their grid (a pause, a clock step; :mod:`.timebase`) is refused by
:func:`to_wav`, naming the step, and :func:`to_wav_parts` writes one file per regular
segment (``out.wav``, ``out.part2.wav``, ...).  Every exporter takes ``progress`` (None: a
tqdm bar when stderr is a terminal; False: never; True: always), and ``overwrite``: an
existing output file is refused (FileExistsError) unless it is True.  Every exporter writes
through :func:`output_file`: a temp file beside the output, renamed onto it at the end, so a
failed export leaves neither a half file nor a damaged previous one.
"""
from __future__ import annotations

import csv
import functools
import inspect
import os
import uuid
import wave
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from .backends import rename_new
from .errors import GapError
from .progress import progress_bar
from .stored import StoredStream, default_fill
from .timebase import IrregularTimesError, Segment, timebase

__all__ = ["to_npy", "to_csv", "to_wav", "to_wav_parts", "wav_part_path", "stream_list",
           "gap_fill", "output_file", "refuse_existing", "atomic_export"]


def refuse_existing(paths: Iterable[str | os.PathLike], overwrite: bool) -> None:
    """FileExistsError (one line) for the first of ``paths`` that exists, unless ``overwrite``."""
    for path in paths if not overwrite else ():
        if os.path.lexists(path):
            raise FileExistsError(f"{path} exists; pass overwrite=True (CLI: --overwrite) "
                                  "to replace it")


@contextmanager
def output_file(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """A temp path beside ``path`` (same suffix) to write an export to: renamed onto
    ``path`` when the block ends, removed when it raises.  An existing ``path`` is refused
    unless ``overwrite`` (checked first, and again at the rename)."""
    path = Path(path)
    refuse_existing([path], overwrite)
    tmp = path.with_name(f".{path.stem}.tmp-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        yield tmp
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                rename_new(tmp, path)
            except FileExistsError:
                raise FileExistsError(f"{path} appeared during the export; pass "
                                      "overwrite=True (CLI: --overwrite) to replace it") from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def atomic_export(export: Callable[..., Any]) -> Callable[..., Path]:
    """Decorator for ``export(stream, path, ...)`` writing one file at ``path``: adds the
    ``overwrite=False`` keyword and makes it write through :func:`output_file`."""
    @functools.wraps(export)
    def wrapper(stream: Any, path: str | os.PathLike, *args: Any, overwrite: bool = False,
                **kwargs: Any) -> Path:
        with output_file(path, overwrite) as tmp:
            export(stream, tmp, *args, **kwargs)
        return Path(path)
    params = list(inspect.signature(export).parameters.values())
    at = len(params) - (params[-1].kind == inspect.Parameter.VAR_KEYWORD if params else 0)
    params.insert(at, inspect.Parameter("overwrite", inspect.Parameter.KEYWORD_ONLY,
                                        default=False, annotation="bool"))
    wrapper.__signature__ = inspect.signature(export).replace(parameters=params)  # type: ignore[attr-defined]  # (functools.wraps' type lacks it)
    wrapper.__doc__ = (export.__doc__ or "").rstrip() + (
        "  ``overwrite``: replace an existing file (default: FileExistsError).")
    return wrapper


def stream_list(streams: StoredStream | Iterable[StoredStream], start: int | None,
                stop: int | None, who: str) -> list[StoredStream]:
    """The streams of a several-stream export (HDF5, NWB), checked: at least one, and
    ``start``/``stop`` only with a single stream."""
    streams = [streams] if isinstance(streams, StoredStream) else list(streams)
    if not streams:
        raise ValueError(f"{who} needs at least one stream")
    if len(streams) > 1 and (start is not None or stop is not None):
        raise ValueError("start/stop apply to a single stream; export streams one by one")
    return streams


def gap_fill(dtype: np.dtype, fill: Any) -> Any:
    """The value written in gap samples by container exports: ``fill``, or NaN/0 for
    None and 'auto' (a container records the gaps beside the data)."""
    return default_fill(dtype) if fill is None or fill == "auto" else fill


def to_npy(stream: StoredStream, path: str | os.PathLike, start: int | None = None,
           stop: int | None = None, fill: Any = None, progress: bool | None = None,
           overwrite: bool = False) -> Path:
    """Write samples ``[start, stop)`` to a .npy file without loading them all."""
    start, stop = stream.bounds(start, stop)
    gaps = stream.gaps_in(start, stop)
    if gaps and fill is None:
        raise GapError(f"{stream.name!r} [{start}:{stop}] has gaps; pass fill=", gaps)
    with output_file(path, overwrite) as tmp:
        _write_npy(stream, tmp, start, stop, gaps, fill, progress)
    return Path(path)


def _write_npy(stream: StoredStream, path: Path, start: int, stop: int, gaps: list,
               fill: Any, progress: bool | None) -> None:
    out = np.lib.format.open_memmap(path, mode="w+", dtype=stream.dtype,
                                    shape=(stop - start,) + stream.shape[1:])
    value = default_fill(stream.dtype) if fill == "auto" else fill
    for g0, g1 in gaps:
        out[g0 - start:g1 - start] = value
    with progress_bar(stop - start - sum(b - a for a, b in gaps), f"export {stream.name}",
                      "sample", progress) as bar:
        for s, data in stream.chunks(start, stop):
            out[s - start:s - start + len(data)] = data
            bar.update(len(data))
    out.flush()
    del out


def _columns(stream: StoredStream) -> list[str]:
    if stream.dtype.names:
        return list(stream.dtype.names)
    if len(stream.shape) != 2:
        raise ValueError(f"CSV export needs 2-D or event streams; {stream.name!r} has "
                         f"shape {stream.shape}")
    info = stream.channel_info or []
    return [str(info[c].get("name", f"ch{c}")) if c < len(info) and isinstance(info[c], dict)
            else f"ch{c}" for c in range(stream.shape[1])]


def to_csv(stream: StoredStream, path: str | os.PathLike, start: int | None = None,
           stop: int | None = None, progress: bool | None = None,
           overwrite: bool = False) -> Path:
    """Write ``index, time, <channels or event fields>`` rows for the stored samples
    (``stream_index, stream_time`` first when the fields have an index or time of their own)."""
    columns = _columns(stream)
    start, stop = stream.bounds(start, stop)
    with output_file(path, overwrite) as tmp, open(tmp, "w", newline="") as f, progress_bar(
            stop - start, f"export {stream.name}", "sample", progress) as bar:
        out = csv.writer(f)
        leading = ["index", "time"]
        if set(leading) & set(columns):     # an event dtype has its own index and time
            leading = ["stream_index", "stream_time"]
        out.writerow(leading + columns)
        for s, data in stream.chunks(start, stop):
            times = stream.times(s, s + len(data))
            for k, row in enumerate(data):
                values = ([v.decode(errors="replace") if isinstance(v, bytes) else v
                           for v in row.tolist()] if stream.dtype.names else row.tolist())
                out.writerow([s + k, repr(float(times[k]))] + values)
            bar.update(len(data))
    return Path(path)


def _check_wav(stream: StoredStream) -> None:
    if stream.streamtype != "analogsignal":
        raise ValueError(f"WAV export is for analog streams, {stream.name!r} is "
                         f"{stream.streamtype}")
    rate = stream.sample_rate
    if rate != int(rate):
        raise ValueError(f"WAV needs an integer sample rate, {stream.name!r} has {rate}")
    if stream.dtype.kind != "f" and not _native(stream.dtype):
        raise ValueError(f"cannot write dtype {stream.dtype} to WAV (use float, int16, "
                         "int32 or uint8)")


def _native(dtype: np.dtype) -> bool:
    return (dtype.kind == "i" and dtype.itemsize in (2, 4)) or \
        (dtype.kind == "u" and dtype.itemsize == 1)


def _write_wav(stream: StoredStream, path: str | os.PathLike, start: int, stop: int,
               fill: Any, full_scale: float, bar: Any) -> Path:
    native = _native(stream.dtype)
    with wave.open(os.fspath(path), "wb") as wav:
        wav.setnchannels(stream.shape[1])
        wav.setsampwidth(stream.dtype.itemsize if native else 2)
        wav.setframerate(int(stream.sample_rate))
        step = max(1, int(stream.sample_rate))
        for s in range(start, stop, step):
            data = stream.read(s, min(stop, s + step), fill=fill)
            if not native:
                data = np.clip(data / full_scale, -1, 1) * 32767
                data = np.round(data).astype("<i2")
            else:
                data = data.astype(stream.dtype.newbyteorder("<"))
            wav.writeframes(np.ascontiguousarray(data).tobytes())
            bar.update(len(data))
    return Path(path)


def wav_part_path(path: str | os.PathLike, part: int) -> Path:
    """File of segment ``part`` (1-based) of a split WAV export: ``out.wav``, ``out.part2.wav``..."""
    path = Path(path)
    return path if part == 1 else path.with_name(f"{path.stem}.part{part}{path.suffix}")


def to_wav(stream: StoredStream, path: str | os.PathLike, start: int | None = None,
           stop: int | None = None, fill: Any = 0, full_scale: float = 1.0,
           progress: bool | None = None, tolerance: float | None = None,
           overwrite: bool = False, times: str | None = None) -> Path:
    """Write an analog stream as PCM WAV (int16; floats map ``±full_scale`` to full range).

    Refused (IrregularTimesError, naming the step) when the samples are not on one time
    grid: a WAV file's fixed rate would misplace every sample after a pause; use
    :func:`to_wav_parts` (CLI ``--split``) for one file per segment.  ``times``: segments
    from the stored time model (default, when there is one), ``'model'`` or raw ``'stamps'``
    (:mod:`.timebase`); the file's rate is the nominal one (WAV holds an integer rate).
    """
    _check_wav(stream)
    start, stop = stream.bounds(start, stop)
    tb = timebase(stream, start, stop, tolerance, times=times)
    if len(tb.segments) > 1:
        raise IrregularTimesError(
            f"{tb.summary()}; a WAV file has one fixed rate, so the samples after it would "
            f"be misplaced: use to_wav_parts (CLI --split) for one file per regular segment")
    with output_file(path, overwrite) as tmp, \
            progress_bar(stop - start, f"export {stream.name}", "sample", progress) as bar:
        _write_wav(stream, tmp, start, stop, fill, full_scale, bar)
    return Path(path)


def to_wav_parts(stream: StoredStream, path: str | os.PathLike, start: int | None = None,
                 stop: int | None = None, fill: Any = 0, full_scale: float = 1.0,
                 progress: bool | None = None, tolerance: float | None = None,
                 overwrite: bool = False, times: str | None = None
                 ) -> list[tuple[Path, Segment | None]]:
    """Write one WAV file per regular segment of samples ``[start, stop)``
    (:func:`wav_part_path` names them); returns ``(file, segment)`` pairs, the segment
    giving the file's first sample index and time (``segment.start``, ``segment.t0``)."""
    _check_wav(stream)
    start, stop = stream.bounds(start, stop)
    tb = timebase(stream, start, stop, tolerance, times=times)
    segments = tb.segments or (None,)
    refuse_existing([wav_part_path(path, part) for part in range(1, len(segments) + 1)],
                    overwrite)
    out = []
    with progress_bar(stop - start, f"export {stream.name}", "sample", progress) as bar:
        for part, seg in enumerate(segments, 1):
            a, b = (start, stop) if seg is None else (seg.start, seg.stop)
            with output_file(wav_part_path(path, part), overwrite) as tmp:
                _write_wav(stream, tmp, a, b, fill, full_scale, bar)
            out.append((wav_part_path(path, part), seg))
    return out
