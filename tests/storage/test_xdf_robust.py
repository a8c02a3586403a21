"""XDF in and out with damaged and hostile files: sizes are checked against the bytes there
before anything is allocated, a truncated file gives every complete chunk, bad headers are
refused in one line, and exports never drop samples silently nor write unreadable XML."""
import json
import os
import struct
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from acqflow.storage import RecordingWriter, StorageError, open_recording
from acqflow.storage.cli import main as rec_main
from tests.storage.xdf_build import (assert_holds, boundaries, first_header_end,
                                     float_samples, header, header_xml, pyxdf_streams, raw_header, samples,
                                     small_valid_xdf, xdf)

pyxdf = pytest.importorskip("pyxdf")
from acqflow.storage.export_xdf import to_xdf, xdf_streams  # noqa: E402
from acqflow.storage.import_xdf import from_xdf  # noqa: E402
from acqflow.storage.xdf import NAMED_CHANNELS, cut_utf8, xml_text  # noqa: E402
from acqflow.storage.xdf_scan import XdfFormatError, scan_xdf  # noqa: E402

EVENT = np.dtype([("index", "int64"), ("time", "float64"), ("label", "S16")])


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def peak_mb(func) -> float:
    """Peak of Python/numpy allocations while ``func`` runs, in MB."""
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def test_a_header_declaring_millions_of_channels_costs_nothing(tmp_path):
    path = write(tmp_path, "wide.xdf", xdf(header(1, "wide", 2_000_000, "float32")))
    assert path.stat().st_size < 300
    assert peak_mb(lambda: from_xdf(path, tmp_path / "rec")) < 50      # was 1.26 GB
    assert (tmp_path / "rec" / "manifest.json").stat().st_size < 200_000   # was 72 MB
    s = open_recording(tmp_path / "rec")["wide"]
    assert s.shape == (-1, 2_000_000) and len(s) == 0
    assert len(s.channel_info) == NAMED_CHANNELS


@pytest.mark.parametrize("fmt,body,count", [
    ("string", b"\x00\x01\x00" * 10, 30_000_000),                  # 254 bytes, 3e7 claimed
    ("float32", b"\x08" + b"\0" * 12, 2**40),
    ("string", b"\x00\x08" + struct.pack("<Q", 2**62), 1),        # one 2**62-byte string
    ("string", b"\x00\x01\x00" * 3, 1),                           # bytes past the samples
])
def test_sample_counts_are_checked_against_the_chunk_before_pyxdf(tmp_path, fmt, body, count):
    good = float_samples(1, [1.0, 2.0], [5.0, 6.0]) if fmt != "string" else \
        samples(1, b"\x08" + struct.pack("<d", 3.0) + b"\x01\x02hi", 1)
    path = write(tmp_path, "claim.xdf", xdf(header(1, "s", 1, fmt), good,
                                            samples(1, body, count), good))
    assert peak_mb(lambda: from_xdf(path, tmp_path / "rec")) < 50      # was 2.6 GB
    rec = open_recording(tmp_path / "rec")
    report = rec.manifest["metadata"]["xdf_import"]
    assert report["chunks_dropped"] == 1 and report["bytes_ignored"] == 0
    assert len(rec["s"]) == (2 if fmt == "string" else 4)     # the good chunks around it
    assert_holds(rec, pyxdf_streams(write(tmp_path, "good.xdf",
                                          xdf(header(1, "s", 1, fmt), good, good))))


def test_every_truncation_imports_every_complete_chunk(tmp_path):
    """At every cut, the scan keeps exactly the chunks before it; imports at many cuts hold
    what pyxdf reads of the file cut at the last complete chunk (was: 49 of 1303 cuts
    failed the whole import)."""
    data = small_valid_xdf(tmp_path)
    ends = boundaries(data)
    first_stream_end = first_header_end(data)
    for cut in range(4, len(data) + 1):
        path = write(tmp_path, "cut.xdf", data[:cut])
        whole = [e for e in ends if e <= cut]
        if cut < first_stream_end:
            with pytest.raises(XdfFormatError, match="no complete StreamHeader"):
                scan_xdf(path)
            continue
        scan = scan_xdf(path)
        assert [o + n for o, n in scan.kept] == whole
        assert scan.dropped == 0 and scan.ignored_bytes == cut - whole[-1]
    for k, cut in enumerate(range(first_stream_end, len(data) + 1, 23)):
        path = write(tmp_path, f"cut{k}.xdf", data[:cut])
        ref = write(tmp_path, f"ref{k}.xdf", data[:max(e for e in ends if e <= cut)])
        rec = open_recording(from_xdf(path, tmp_path / f"rec{k}"))
        assert_holds(rec, pyxdf_streams(ref))


def test_damage_in_the_middle_resumes_after_a_boundary_chunk(tmp_path):
    boundary = bytes.fromhex("43A546DCCBF5410FB30ED5467383CBE4")
    first = float_samples(1, [1.0], [1.0])
    last = float_samples(1, [3.0], [3.0])
    garbage = b"\x08" + struct.pack("<Q", 10**15) + b"\x03\x00" + b"junk"
    path = write(tmp_path, "mid.xdf", xdf(header(1, "s", 1, "float32"), first, garbage,
                                          struct.pack("<BBH", 1, 18, 5) + boundary, last))
    rec = open_recording(from_xdf(path, tmp_path / "rec"))
    np.testing.assert_array_equal(rec["s"].read()[:, 0], [1.0, 3.0])
    report = rec.manifest["metadata"]["xdf_import"]
    assert report["bytes_ignored"] == len(garbage) + 4 + len(boundary)


@pytest.mark.parametrize("rate", ["nan", "inf", "-5", "fast"])
def test_non_finite_or_negative_rates_are_refused(tmp_path, rate):
    path = write(tmp_path, "rate.xdf", xdf(header(1, "s", 1, "float32", rate),
                                           float_samples(1, [1.0], [1.0])))
    with pytest.raises(XdfFormatError, match=f"stream 's'.*nominal_srate '{rate}'"):
        from_xdf(path, tmp_path / "rec")
    assert not (tmp_path / "rec").exists()


def test_the_manifest_never_holds_nan(tmp_path):
    from acqflow.storage.manifest import dumps
    with pytest.raises(ValueError):
        dumps({"x": float("nan")})
    with RecordingWriter(tmp_path / "rec") as w, \
            pytest.raises(TypeError, match="nominal_srate"):
        w.add_stream("s", streamtype="analogsignal", dtype="float32", shape=(-1, 1),
                     sample_rate=1.0, nominal_srate=float("nan"))
    json.loads((tmp_path / "rec" / "manifest.json").read_text(),
               parse_constant=lambda c: pytest.fail(f"manifest holds {c}"))


@pytest.mark.parametrize("hdr,match", [
    (header(1, "s", 1, "float128"), "unknown channel_format 'float128'"),
    (header(1, "s", 0, "float32"), "channel_count 0 is outside"),
    (header(1, "s", 2**40, "float32"), "channel_count 1099511627776 is outside"),
    (raw_header(1, header_xml("s", 1, "float32").replace("<name>s</name>", "")),
     "damaged StreamHeader: no <name>"),
    (raw_header(1, header_xml("s", 1, "float32").replace("</info>", "<info>")),
     "damaged StreamHeader: header is not XML"),
    (raw_header(1, header_xml("s", 1, "float32").replace("info>", "x>")),
     "damaged StreamHeader: root element <x>"),
    (raw_header(1, header_xml("s", 1, "float32").replace(
        "<info>", '<!DOCTYPE info [<!ENTITY a "aaaa">]><info>')), "declares a DTD"),
])
def test_bad_stream_headers_are_refused_in_one_line(tmp_path, hdr, match):
    path = write(tmp_path, "bad.xdf", xdf(hdr))
    with pytest.raises(XdfFormatError, match=match) as info:
        from_xdf(path, tmp_path / "rec")
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_two_headers_with_one_stream_id_are_reported(tmp_path):
    path = write(tmp_path, "dup.xdf", xdf(header(1, "a", 1, "float32"),
                                          float_samples(1, [1.0], [1.0]),
                                          header(1, "b", 1, "float32")))
    with pytest.raises(XdfFormatError, match="stream id 1 has two StreamHeaders .'a'.*'b'"):
        from_xdf(path, tmp_path / "rec")


def test_utf8_labels_are_cut_at_a_character_boundary(tmp_path):
    assert cut_utf8("aé€".encode(), 2) == b"a" and cut_utf8("aé€".encode(), 5) == "aé".encode()
    body = b"".join(b"\x08" + struct.pack("<d", t) + bytes([1, len(b)]) + b
                    for t, b in ((1.0, "aé€".encode()), (2.0, "€€".encode()), (3.0, b"x")))
    path = write(tmp_path, "m.xdf", xdf(header(1, "m", 1, "string", "0"), samples(1, body, 3)))
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="label_size must be a positive int"):
            from_xdf(path, tmp_path / "rec", label_size=bad)
    rec = open_recording(from_xdf(path, tmp_path / "rec", label_size=4))
    assert [bytes(v).decode() for v in rec["m"].read()["label"]] == ["aé", "€", "x"]


def test_long_labels_of_many_markers_are_refused_not_expanded(tmp_path):
    long = b"\x08" + struct.pack("<d", 0.0) + b"\x04" + struct.pack("<I", 1 << 20) + b"L" * (1 << 20)
    body = long + (b"\x00\x01\x00" * 100_000)
    path = write(tmp_path, "m.xdf", xdf(header(1, "m", 1, "string", "0"),
                                        samples(1, body, 100_001)))
    with pytest.raises(StorageError, match="100001 markers with labels up to 1048576 bytes"):
        from_xdf(path, tmp_path / "rec")                # 100 GB of fixed-size labels
    rec = open_recording(from_xdf(path, tmp_path / "rec", label_size=8))
    assert len(rec["m"]) == 100_001 and bytes(rec["m"].read(0, 1)["label"][0]) == b"L" * 8


@pytest.fixture
def unstamped_rec(tmp_path):
    """An LSL-style stream whose NAME.timestamps companion has NaN and a gap, and events
    with an inf time."""
    path = tmp_path / "src"
    with RecordingWriter(path) as w:
        w.add_stream("eeg", streamtype="analogsignal", dtype="float32", shape=(-1, 1),
                     sample_rate=10.0, lsl_timestamps="eeg.timestamps")
        w.add_stream("eeg.timestamps", streamtype="analogsignal", dtype="float64",
                     shape=(-1, 1), sample_rate=10.0, lsl_timestamps_of="eeg")
        w.add_stream("ev", streamtype="event", dtype=EVENT.descr, shape=(-1,), sample_rate=1.0)
        w.write("eeg", np.arange(6, dtype="float32")[:, None], timestamp=1.0)
        w.write("eeg.timestamps", np.array([[0.0], [0.1], [np.nan], [0.3]]), timestamp=1.0)
        ev = np.zeros(3, EVENT)
        ev["time"], ev["label"] = [1.0, np.inf, 2.0], [b"a", b"b", b"c"]
        w.write("ev", ev, timestamp=1.0)
    return open_recording(path)


def test_samples_without_a_finite_stamp_are_refused_or_dropped_counted(unstamped_rec, tmp_path):
    streams = xdf_streams(unstamped_rec.streams.values())
    out = tmp_path / "x.xdf"
    with pytest.raises(StorageError, match="stream 'eeg': 3 samples have no finite time stamp"):
        to_xdf(streams, out, progress=False)                 # was: 3 samples silently gone
    assert not out.exists() and not list(tmp_path.glob(".x.xdf.tmp*"))
    with pytest.raises(ValueError, match="nonfinite='keep' is not one of error, drop"):
        to_xdf(streams, out, progress=False, nonfinite="keep")
    with pytest.raises(StorageError, match="stream 'ev': 1 samples"):
        to_xdf([unstamped_rec["ev"]], out, progress=False)
    dropped = {}
    to_xdf(streams, out, progress=False, nonfinite="drop", dropped=dropped)
    assert dropped == {"eeg": 3, "ev": 1}
    got = {s["info"]["name"][0]: s for s in pyxdf.load_xdf(str(out))[0]}   # clock sync on
    np.testing.assert_array_equal(got["eeg"]["time_series"][:, 0], [0, 1, 3])
    assert np.isfinite(got["eeg"]["time_stamps"]).all()
    assert [v[0] for v in got["ev"]["time_series"]] == ["a", "c"]


def test_cli_export_refuses_unstamped_in_one_line_or_drops_with_a_count(unstamped_rec,
                                                                       tmp_path, capsys):
    args = ["export", unstamped_rec.url, "all", "--out", str(tmp_path / "x.xdf"), "-q"]
    assert rec_main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "3 samples have no finite time stamp" in err
    assert rec_main(args + ["--drop-unstamped"]) == 0
    err = capsys.readouterr().err
    assert "'eeg': 3 samples without a finite time stamp left out" in err
    assert "'ev': 1 samples" in err


def test_control_characters_in_names_and_labels_keep_the_file_readable(tmp_path):
    assert xml_text("a\x01b\tc\ud800d\uffff") == "a\ufffdb\tc\ufffdd\ufffd"
    path = tmp_path / "src"
    chans = [{"name": "F\x01z <&>", "units": "u\x1bV"}]
    xml = '<?xml version="1.0"?><info><name>lsl\x02</name><type>EEG</type>' \
          "<channel_count>1</channel_count><nominal_srate>0</nominal_srate>" \
          "<channel_format>float32</channel_format></info>"
    with RecordingWriter(path) as w:
        w.add_stream("eeg\x07", streamtype="analogsignal", dtype="float32", shape=(-1, 1),
                     sample_rate=10.0, channel_info=chans)
        w.add_stream("rec", streamtype="analogsignal", dtype="float32", shape=(-1, 1),
                     sample_rate=10.0, lsl_info_xml=xml)
        for name in ("eeg\x07", "rec"):
            w.write(name, np.ones((2, 1), "float32"), timestamp=1.0)
    rec = open_recording(path)
    out = to_xdf(xdf_streams(rec.streams.values()), tmp_path / "x.xdf", progress=False)
    got = {s["info"]["name"][0]: s for s in pyxdf.load_xdf(str(out))[0]}   # was: ParseError
    assert set(got) == {"eeg\ufffd", "lsl\ufffd"}
    ch = got["eeg\ufffd"]["info"]["desc"][0]["channels"][0]["channel"][0]
    assert ch["label"] == ["F\ufffdz <&>"] and ch["unit"] == ["u\ufffdV"]


def test_cli_import_prints_one_line_for_each_bad_file(tmp_path, capsys):
    bad = {"empty.xdf": b"", "magic.xdf": b"XDF?" + b"\0" * 20, "noheader.xdf": xdf(),
           "nan.xdf": xdf(header(1, "s", 1, "float32", "nan")),
           "dup.xdf": xdf(header(1, "a", 1, "int8"), header(1, "b", 1, "int8")),
           "fmt.xdf": xdf(header(1, "a", 1, "bits")),
           "deep.xdf": xdf(raw_header(1, header_xml("a", 1, "int8").replace(
               "</info>", "<d>" * 100 + "</d>" * 100 + "</info>")))}
    for name, data in bad.items():
        path = write(tmp_path, name, data)
        assert rec_main(["import", str(path), str(tmp_path / f"out-{name}")]) == 1, name
        out = capsys.readouterr()
        assert out.out == "" and out.err.count("\n") == 1, (name, out.err)
        assert out.err.startswith("acqflow rec import: ") and "Traceback" not in out.err
        assert not (tmp_path / f"out-{name}").exists()
    assert rec_main(["import", str(tmp_path / "missing.xdf"), str(tmp_path / "o")]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    truncated = write(tmp_path, "cut.xdf", small_valid_xdf(tmp_path)[:-20])
    assert rec_main(["import", str(truncated), str(tmp_path / "cut")]) == 0
    assert "damaged/truncated file: 0 chunks dropped, " in capsys.readouterr().out


def test_fuzzed_files_under_a_memory_limit(tmp_path):
    """Damaged and hostile bytes, imported in a process limited to 1 GB of address space:
    a one-line StorageError or exactly what pyxdf reads of the complete chunks; never a
    MemoryError, a crash or a hang."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-m", "tests.storage.xdf_fuzz_proc", str(tmp_path),
                           "1024", "300"], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert proc.stdout.startswith("ok ")
    imported, refused = int(proc.stdout.split()[1]), int(proc.stdout.split()[3])
    assert imported > 50 and refused > 20


def test_compressed_xdfz_whole_and_truncated(tmp_path):
    import gzip
    data = small_valid_xdf(tmp_path)
    packed = gzip.compress(data)
    whole = write(tmp_path, "a.xdfz", packed)
    rec = open_recording(from_xdf(whole, tmp_path / "whole"))
    assert rec.manifest["metadata"]["xdf_import"]["bytes_ignored"] == 0
    assert_holds(rec, pyxdf_streams(write(tmp_path, "a.xdf", data)))
    cut = write(tmp_path, "cut.xdfz", packed[:len(packed) * 2 // 3])
    rec = open_recording(from_xdf(cut, tmp_path / "cut"))
    report = rec.manifest["metadata"]["xdf_import"]
    assert report["bytes_ignored"] > 0 and "compressed data unreadable" in report["problems"][0]
    assert sum(len(s) for s in rec.streams.values()) > 0


def test_lsl_record_cuts_marker_labels_at_a_character_boundary(tmp_path):
    """`acqflow lsl record` (label_size, default 256) cuts long UTF-8 labels between
    characters, like the XDF import."""
    pytest.importorskip("pylsl")
    import uuid

    from acqflow.lsl import LSLRecorder
    from acqflow.testing import wait_for
    from tests.lsl.conftest import Source
    name = f"cut-{uuid.uuid4().hex[:8]}"
    src = Source(name=name, type="Markers", channels=1, rate=0, n=5, format="cf_string",
                 label="aé€{k}")
    try:
        rec = LSLRecorder(tmp_path / "rec", match=[name], label_size=4).start(wait=3.0)
        try:
            cap = rec.captures[0]
            wait_for(lambda: cap.samples == 5, timeout=30)
        finally:
            rec.close()
    finally:
        src.stop()
    ev = open_recording(tmp_path / "rec")[name].read()
    assert [bytes(v).decode() for v in ev["label"]] == ["aé"] * 5     # was b"a\xc3\xa9\xe2"
