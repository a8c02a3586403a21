"""Hand-made XDF files for the robustness tests: chunks built byte by byte, a small valid
file exported by acqflow, its chunk boundaries, and the check that an import of damaged
bytes holds exactly what pyxdf reads of the file's complete, consistent chunks."""
import logging
import struct

import numpy as np

from acqflow.storage.xdf import chunk, varlen

FILE_HEADER = chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')


def header_xml(name: str, n: int, fmt: str, rate: str = "100") -> str:
    """StreamHeader XML with the four fields pyxdf needs."""
    return (f'<?xml version="1.0"?><info><name>{name}</name><type>EEG</type>'
            f"<channel_count>{n}</channel_count><nominal_srate>{rate}</nominal_srate>"
            f"<channel_format>{fmt}</channel_format></info>")


def raw_header(sid: int, xml: str) -> bytes:
    """A StreamHeader chunk holding ``xml`` as it is."""
    return chunk(2, struct.pack("<I", sid) + xml.encode())


def header(sid: int, name: str, n: int, fmt: str, rate: str = "100") -> bytes:
    """A StreamHeader chunk with the four fields pyxdf needs."""
    return raw_header(sid, header_xml(name, n, fmt, rate))


def samples(sid: int, body: bytes, count: int) -> bytes:
    """A Samples chunk: stream id, varlen ``count`` (as declared), then ``body``."""
    return chunk(3, struct.pack("<I", sid) + varlen(count) + body)


def float_samples(sid: int, stamps, values) -> bytes:
    """A float32 one-channel Samples chunk, every sample stamped."""
    body = b"".join(b"\x08" + struct.pack("<d", t) + struct.pack("<f", v)
                    for t, v in zip(stamps, values))
    return samples(sid, body, len(stamps))


def xdf(*chunks: bytes) -> bytes:
    return b"XDF:" + FILE_HEADER + b"".join(chunks)


def small_valid_xdf(tmp) -> bytes:
    """An acqflow export: float32 (4 chunks), int16, UTF-8 markers (2 chunks), clock offsets."""
    from acqflow.storage import RecordingWriter, open_recording
    from acqflow.storage.export_xdf import to_xdf, xdf_streams
    with RecordingWriter(f"{tmp}/rec") as w:
        w.add_stream("eeg", streamtype="analogsignal", dtype="float32", shape=(-1, 2),
                     sample_rate=100.0)
        w.add_stream("trig", streamtype="analogsignal", dtype="int16", shape=(-1, 1),
                     sample_rate=10.0)
        ev = np.zeros(2, [("index", "int64"), ("time", "float64"), ("label", "S8")])
        w.add_stream("ev", streamtype="event", dtype=ev.dtype.descr, shape=(-1,),
                     sample_rate=1.0)
        w.set_stream_clock("eeg", {"history": [[1.0, -0.5, 0.0], [2.0, -0.25, 0.0]]})
        for k in range(4):
            w.write("eeg", np.arange(10, dtype="float32").reshape(5, 2) + k,
                    timestamp=1.0 + 0.05 * k)
            if k % 2:
                ev["time"], ev["label"] = [1.0 + k, 1.5 + k], ["é€".encode(), b"go"]
                w.write("ev", ev, timestamp=1.5 + k)
        w.write("trig", np.array([[1], [2], [3]], "int16"), timestamp=1.2)
    rec = open_recording(f"{tmp}/rec")
    return to_xdf(xdf_streams(rec.streams.values()), f"{tmp}/valid.xdf",
                  progress=False).read_bytes()


def chunk_tags(data: bytes) -> list[tuple[int, int]]:
    """``(end offset, tag)`` of every chunk of a valid XDF file."""
    out, pos = [], 4
    while pos < len(data):
        width = data[pos]
        length = int.from_bytes(data[pos + 1:pos + 1 + width], "little")
        tag = int.from_bytes(data[pos + 1 + width:pos + 3 + width], "little")
        pos += 1 + width + length
        out.append((pos, tag))
    return out


def boundaries(data: bytes) -> list[int]:
    """End offsets of every chunk of a valid XDF file (a cut there leaves whole chunks)."""
    return [end for end, _ in chunk_tags(data)]


def first_header_end(data: bytes) -> int:
    """End offset of the first StreamHeader (a shorter file has no stream to import)."""
    return next(end for end, tag in chunk_tags(data) if tag == 2)


def pyxdf_streams(path) -> dict:
    """pyxdf's raw reading (no clock processing), by stream id; fails if pyxdf logs an
    error, i.e. if it met anything it had to skip or guess at."""
    import pyxdf
    errors = []

    class Catch(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.ERROR:
                errors.append(record.getMessage())
    log = logging.getLogger("pyxdf.pyxdf")
    handler = Catch()
    log.addHandler(handler)
    try:
        streams, _ = pyxdf.load_xdf(str(path), synchronize_clocks=False,
                                    dejitter_timestamps=False, handle_clock_resets=False)
    finally:
        log.removeHandler(handler)
    assert not errors, errors
    return {s["info"]["stream_id"]: s for s in streams}


def assert_holds(rec, ref: dict) -> None:
    """Recording ``rec`` holds exactly pyxdf's streams ``ref`` (values and stamps)."""
    by_id = {s.entry["metadata"].get("xdf_stream_id"): s for s in rec.streams.values()
             if not s.entry["metadata"].get("lsl_timestamps_of")}
    assert set(by_id) == set(ref)
    for sid, x in ref.items():
        s = by_id[sid]
        stamps = np.asarray(x["time_stamps"], dtype=np.float64)
        if s.streamtype == "event":
            ev = s.read() if len(s) else np.zeros(0, s.dtype)
            assert [bytes(b).decode() for b in ev["label"]] == [v[0] for v in x["time_series"]]
            np.testing.assert_array_equal(ev["time"], stamps)
        else:
            got = s.read() if len(s) else np.zeros((0,) + s.shape[1:], s.dtype)
            np.testing.assert_array_equal(got, np.asarray(x["time_series"]).reshape(got.shape))
            ts = rec[s.name + ".timestamps"]
            got_t = ts.read()[:, 0] if len(ts) else np.zeros(0)
            np.testing.assert_array_equal(got_t, stamps)
