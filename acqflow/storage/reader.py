"""open_recording: a Recording with its stored streams, from a path or any fsspec URL."""
from __future__ import annotations

import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Iterator

import numpy as np

from .backends import Backend, is_local, make_backend
from .cache import LocalCache, default_cache
from .codec import decode_frames
from .errors import DamagedBlockError, NotARecordingError, StorageError
from .external import open_external
from .format import HEADER_SIZE
from .index import BlockIndex, Damage, StreamTable
from .manifest import MANIFEST, dumps, loads, segment_name
from .merge import merge
from .prefetch import Prefetch, prefetch
from .stored import StoredStream
from .streamdata import StreamData
from .videocodec import is_packet_codec
from .videoread import PacketDecoder

__all__ = ["Recording", "open_recording", "delete_recording", "block_layout"]

_RANGE_CACHE = 32  # decoded (stream, block) byte ranges kept per recording
_EMPTY = StreamTable()


class Recording(Mapping[str, StoredStream]):
    """A recording opened for reading (possibly while it is still being written).

    A read-only mapping of stream name -> StoredStream (``rec["sig"]``, ``len(rec)``,
    ``rec.items()``...), deleted streams left out; equal and hashed by identity."""

    __eq__ = object.__eq__      # a recording is an open resource, not a value
    __hash__ = object.__hash__

    def __init__(self, backend: Backend, verify: bool = False):
        self.backend = backend
        self.url = backend.url
        self._lock = threading.RLock()
        self._ranges: OrderedDict[tuple[int, int], tuple[bytes, int]] = OrderedDict()
        self._decoders: dict[int, PacketDecoder] = {}
        self._read_damage: list[Damage] = []
        self._streams: dict[str, StoredStream] = {}
        self.manifest = self._load_manifest()
        backend.namespace = self.manifest["uuid"]
        self._sync_streams()
        self._index = BlockIndex(backend, verify)
        self._index.refresh()
        self._external = open_external(self.manifest)   # imported WAV/video streams
        for sid, ext in self._external.items():
            self._index.streams[sid] = ext.table()

    def __repr__(self) -> str:
        state = "committed" if self.committed else "open/uncommitted"
        return f"<Recording {self.url} {state} streams={list(self.streams)}>"

    def _load_manifest(self) -> dict[str, Any]:
        try:
            data = self.backend.read(MANIFEST)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotARecordingError(f"{self.url}: no {MANIFEST} (not a recording)") from None
        return loads(data, self.url)

    def _sync_streams(self) -> None:
        for entry in self.manifest["streams"]:
            if entry["name"] not in self._streams:
                self._streams[entry["name"]] = StoredStream(self, entry)
            else:
                self._streams[entry["name"]].entry = entry

    def _write_manifest(self) -> None:
        self.backend.write_manifest(dumps(self.manifest))

    @classmethod
    def open(cls, url: str | os.PathLike, *, verify: bool = False,
             cache: LocalCache | bool | dict | None = None,
             storage_options: dict[str, Any] | None = None) -> "Recording":
        """:func:`open_recording` as a classmethod: a dask task holds the type and reopens
        the recording with it in another process (dask_view must not import this module)."""
        return open_recording(url, verify=verify, cache=cache, storage_options=storage_options)

    # -- state -----------------------------------------------------------------------
    @property
    def uuid(self) -> str:
        """Identity of this recording (changes when it is overwritten)."""
        return self.manifest["uuid"]

    @property
    def committed(self) -> bool:
        """True when the writer closed the recording cleanly."""
        return self.manifest.get("state") == "closed"

    @property
    def damage(self) -> list[Damage]:
        """Problems found so far (at open, on refresh, or by reads failing their CRC)."""
        found = self._index.damage + self._read_damage
        if self.committed:  # a closed recording must hold everything its writer sealed
            stats = self.manifest.get("stats", {}).get("streams", {})
            for name, stream in self._streams.items():
                sealed = (stats.get(name) or {}).get("sealed_stop") or 0
                if sealed > stream.stop_index:
                    found.append(Damage(-1, -1, f"stream {name!r}: sealed samples "
                                        f"[{stream.stop_index}:{sealed}] are missing"))
        return found

    @property
    def intact(self) -> bool:
        """False when damage lost data (a torn tail of an uncommitted recording is normal)."""
        return not any(d.lost for d in self.damage)

    @property
    def torn_bytes(self) -> int:
        """Bytes after the last valid block (a block being written, or a torn tail)."""
        return self._index.torn_bytes

    @property
    def n_blocks(self) -> int:
        """Valid sealed blocks."""
        return len(self._index.blocks)

    @property
    def streams(self) -> dict[str, StoredStream]:
        """Stored streams by name (deleted ones hidden)."""
        return {n: s for n, s in self._streams.items() if not s.entry.get("deleted")}

    def __getitem__(self, name: str) -> StoredStream:
        try:
            return self.streams[name]
        except KeyError:
            raise KeyError(f"{self.url} has no stream {name!r} "
                           f"(streams: {', '.join(self.streams)})") from None

    def __contains__(self, name: object) -> bool:
        return name in self.streams

    def __iter__(self) -> Iterator[str]:
        return iter(self.streams)

    def __len__(self) -> int:
        return len(self.streams)

    def refresh(self) -> int:
        """Re-read the manifest, then pick up newly sealed blocks; returns how many."""
        with self._lock:
            try:
                self.manifest = self._load_manifest()
            except (NotARecordingError, OSError):
                pass  # keep the last good manifest (e.g. mid-upload)
            self._sync_streams()
            return self._index.refresh()

    def merge(self, names: list[str] | None = None, t0: float | None = None,
              t1: float | None = None, aligned: bool = False
              ) -> Iterator[tuple[str, tuple[int, np.ndarray, float]]]:
        """Chunks of several streams (default: all) in time order; see :func:`merge`
        (``aligned=True``: on the recorder's clock, for streams from several hosts)."""
        return merge([self[n] for n in (names or list(self.streams))], t0, t1, aligned)

    # -- data access -----------------------------------------------------------------
    @staticmethod
    def _payload_bounds(a: dict[str, np.ndarray], k0: int, k1: int) -> tuple[int, int]:
        return (int(a["poff"][k0:k1].min()),
                int((a["poff"][k0:k1] + a["nbytes"][k0:k1]).max()))

    def _range_of(self, sid: int, block_no: int, table: Any) -> tuple[str, int, int]:
        """``(file, offset, length)`` of one stream's whole range in one block: the
        unit a remote read fetches and caches."""
        a = table.arrays
        k0 = int(np.searchsorted(a["block"], block_no, "left"))
        k1 = int(np.searchsorted(a["block"], block_no, "right"))
        lo, hi = self._payload_bounds(a, k0, k1)
        block = self._index.blocks[block_no]
        return segment_name(block.segment), block.offset + HEADER_SIZE + lo, hi - lo

    def prefetch(self, t0: float | None = None, t1: float | None = None,
                 streams: list[str] | None = None, progress: bool | None = None,
                 workers: int = 4) -> Prefetch:
        """Download the blocks with samples in ``[t0, t1)`` of ``streams`` (default
        all) into the local cache, with a progress bar (shown on a terminal;
        ``progress=False`` never).  Use as a call or a context manager; see
        :func:`acqflow.storage.prefetch.prefetch`."""
        return prefetch(self.backend, self.url, [self[n] for n in streams or list(self.streams)],
                        self.byte_ranges, t0, t1, progress, workers)

    def byte_ranges(self, stream: StreamData, start: int, stop: int) -> list[tuple[str, int, int]]:
        """``(file, offset, length)`` of the block ranges holding samples ``[start, stop)``
        of ``stream``: the units remote reads fetch and the local cache keeps."""
        table = self.stream_table(stream.sid)
        blocks = np.unique(stream.record_table(start, stop)["block"])
        return [self._range_of(stream.sid, int(b), table) for b in blocks]

    def stream_table(self, sid: int) -> StreamTable:
        """The index of stream ``sid``'s stored records (empty when none are sealed yet)."""
        return self._index.streams.get(sid, _EMPTY)

    def delete_stream(self, name: str) -> None:
        """Hide stream ``name`` (manifest tombstone); refused while the recording is open."""
        self.refresh()
        if not self.committed:
            raise StorageError(f"{self.url}: cannot delete stream {name!r} of a "
                               "recording that is still open")
        for entry in self.manifest["streams"]:
            if entry["name"] == name:
                entry["deleted"] = True
        self._write_manifest()

    def _stream_range(self, sid: int, block_no: int, table: Any,
                      span: tuple[int, int] | None = None) -> tuple[bytes, int]:
        """CRC-checked payload bytes of one stream in one block (only of its records
        ``span`` when given, uncached), and their payload offset."""
        key = (sid, block_no)
        with self._lock:
            hit = self._ranges.get(key)
            if hit is not None:
                self._ranges.move_to_end(key)
                return hit
        a = table.arrays
        if span is not None:
            k0, k1 = span
        else:
            k0 = int(np.searchsorted(a["block"], block_no, "left"))
            k1 = int(np.searchsorted(a["block"], block_no, "right"))
        lo, hi = self._payload_bounds(a, k0, k1)
        block = self._index.blocks[block_no]
        try:
            data = self.backend.read(segment_name(block.segment),
                                     block.offset + HEADER_SIZE + lo, hi - lo, immutable=True)
        except FileNotFoundError:
            data = b""
        view = memoryview(data)
        for k in range(k0, k1):
            p, n = int(a["poff"][k]) - lo, int(a["nbytes"][k])
            if p + n > len(view) or zlib.crc32(view[p:p + n]) != int(a["crc"][k]):
                reason = (f"stream {sid} samples {int(a['start'][k])}:{int(a['stop'][k])}: "
                          + ("payload missing" if p + n > len(view) else "payload CRC mismatch"))
                self.backend.discard(segment_name(block.segment),
                                     block.offset + HEADER_SIZE + lo, hi - lo)
                with self._lock:
                    self._read_damage.append(Damage(block.segment, block.offset, reason))
                raise DamagedBlockError(f"{self.url}: block {block.seq} "
                                        f"({segment_name(block.segment)} @ {block.offset}) "
                                        f"is damaged: {reason}")
        if span is None:
            with self._lock:
                self._ranges[key] = (data, lo)
                while len(self._ranges) > _RANGE_CACHE:
                    self._ranges.popitem(last=False)
        return data, lo

    def record_payloads(self, stream: StreamData, k0: int, k1: int
                        ) -> Iterator[tuple[int, memoryview]]:
        """``(k, stored bytes)`` of records ``k0..k1-1`` of ``stream``, CRC-checked; one
        read per block touched (a remote one through the local cache)."""
        table = self.stream_table(stream.sid)
        a = table.arrays
        k = k0
        while k < k1:
            block_no = int(a["block"][k])
            end = min(k1, int(np.searchsorted(a["block"], block_no, "right")))
            span = None if self.backend.whole_ranges else (k, end)
            data, lo = self._stream_range(stream.sid, block_no, table, span)
            for j in range(k, end):
                p = int(a["poff"][j]) - lo
                yield j, memoryview(data)[p:p + int(a["nbytes"][j])]
            k = end

    def read_records(self, stream: StreamData, k0: int, k1: int) -> Iterator[np.ndarray]:
        """Decoded samples of records ``k0..k1-1`` of ``stream``, one array per record
        (read-only views when not decoded); one read per block touched."""
        table = self.stream_table(stream.sid)
        ext = self._external.get(stream.sid)
        if ext is not None:
            yield from ext.records(table, k0, k1)
            return
        if is_packet_codec(stream.codec):
            for frame in self.decoder(stream).frames(k0, k1):
                yield frame[None]             # one frame per record
            return
        a = table.arrays
        for j, raw in self.record_payloads(stream, k0, k1):
            if stream.codec:
                frames = table.frames[j]
                if frames is None:       # (a record of an encoded stream lists its frames)
                    raise DamagedBlockError(f"{self.url}: record {j} of the {stream.codec} stream "
                                            f"{stream.name!r} has no frame sizes")
                yield decode_frames(raw, frames, stream.shape)
            else:
                yield np.frombuffer(raw, stream.dtype).reshape((int(a["n"][j]),)
                                                               + stream.shape[1:])

    def decoder(self, stream: StreamData) -> PacketDecoder:
        """The cached decoder of a compressed video stream (one per stream)."""
        codec = stream.codec
        if not is_packet_codec(codec):
            raise ValueError(f"stream {stream.name!r} is not stored as compressed packets")
        with self._lock:
            dec = self._decoders.get(stream.sid)
            if dec is None:
                dec = self._decoders[stream.sid] = PacketDecoder(
                    stream.name, codec, stream.shape,
                    lambda: self.stream_table(stream.sid),
                    lambda k0, k1: self.record_payloads(stream, k0, k1))
            return dec

    # -- lifetime --------------------------------------------------------------------
    def close(self) -> None:
        """Release open files and caches."""
        for ext in self._external.values():
            ext.close()
        self.backend.close()
        self._ranges.clear()
        self._decoders.clear()

    def delete(self) -> None:
        """Delete the whole recording (all files under its URL)."""
        self.backend.delete()

    def __enter__(self) -> "Recording":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _make_cache(cache: LocalCache | bool | dict | None) -> LocalCache | None:
    if cache is False:
        return None
    if cache is None or cache is True:
        return default_cache()
    if isinstance(cache, dict):
        return LocalCache(**cache)
    return cache


def open_recording(url: str | os.PathLike, *, verify: bool = False,
                   cache: LocalCache | bool | dict | None = None,
                   storage_options: dict[str, Any] | None = None) -> Recording:
    """Open a recording (path or fsspec URL) for reading.

    ``verify=True`` CRC-checks every block now and keeps the valid prefix;
    otherwise blocks are checked when read.  Remote block ranges are cached
    locally: ``cache`` is a LocalCache, its kwargs as a dict, None/True for the
    default cache (see :mod:`.cacheconfig`; none when its size is -1) or False.
    """
    if is_local(url):
        return Recording(make_backend(url, storage_options), verify)
    return Recording(make_backend(url, storage_options, _make_cache(cache)), verify)


def delete_recording(url: str | os.PathLike,
                     storage_options: dict[str, Any] | None = None) -> None:
    """Delete a recording; refuses URLs that hold no recording manifest."""
    backend = make_backend(url, storage_options)
    try:
        loads(backend.read(MANIFEST), str(url))
    except FileNotFoundError:
        raise NotARecordingError(f"{url}: no {MANIFEST}; refusing to delete") from None
    backend.delete()


def block_layout(url: str | os.PathLike, storage_options: dict[str, Any] | None = None
                 ) -> dict[int, dict[str, int | None]]:
    """What the CRC-checked blocks alone tell of each stream id, without the manifest:
    first and stop index, samples stored and payload bytes per sample (when constant).
    Names, dtypes, shapes and rates are not in the blocks."""
    backend = make_backend(url, storage_options)
    index = BlockIndex(backend, verify=True)
    index.refresh()
    layout = {}
    for sid, table in sorted(index.streams.items()):
        a = table.arrays
        n, nbytes = a["n"], a["nbytes"]
        per = {int(b // k) for b, k in zip(nbytes, n) if k and b % k == 0}
        layout[sid] = {"first": int(a["start"][0]) if len(n) else 0,
                       "stop": int(a["stop"][-1]) if len(n) else 0,
                       "samples": int(n.sum()),
                       "bytes_per_sample": per.pop() if len(per) == 1 else None}
    return layout
