"""Nothing a call did not create is ever deleted: every failing append, overwrite, import
and LSL record leaves an existing recording byte for byte as it was (each file hashed)."""
import hashlib
import os
import shutil
import struct
import uuid

import numpy as np
import pytest

from acqflow import OutputStream
from acqflow.nodes.recorder import Recorder
from acqflow.storage import RecordingExistsError, RecordingWriter, open_recording
from acqflow.storage.target import recording_run

SIG = dict(streamtype="analogsignal", dtype="float32", shape=(-1, 2), sample_rate=100.0)


def ramp(a: int, b: int) -> np.ndarray:
    return np.arange(2 * a, 2 * b, dtype="float32").reshape(-1, 2)


def digest(root) -> dict[str, str]:
    """sha256 of every file under ``root``, by relative path."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def snapshot(path) -> tuple[dict, list]:
    """The recording's files and what is beside it (no leftover temp directories)."""
    return digest(path), sorted(os.listdir(path.parent))


@pytest.fixture
def existing(tmp_path):
    """A committed recording of two sealed blocks."""
    path = tmp_path / "rec"
    with RecordingWriter(path, block_s=3600) as w:
        w.add_stream("sig", **SIG)
        w.write("sig", ramp(0, 50))
        w.flush()
        w.write("sig", ramp(50, 80))
    before = snapshot(path)
    yield path
    assert snapshot(path) == before
    rec = open_recording(path)
    assert rec.committed
    np.testing.assert_array_equal(rec["sig"].read(), ramp(0, 80))


# -- the storage writer ----------------------------------------------------------------
def test_append_aborted_after_sealing_data_cuts_back_to_the_old_bytes(existing):
    w = RecordingWriter(existing, "append", block_s=3600)
    w.write("sig", ramp(80, 120))
    w.flush()                                  # sealed: the files have grown
    w.write("sig", ramp(120, 130))
    w.abort()


def test_append_that_appends_nothing_changes_nothing(existing):
    with RecordingWriter(existing, "append") as w:
        w.add_stream("sig", **SIG)             # the same stream again: nothing new


def test_overwrite_aborted_keeps_the_old_recording(existing):
    w = RecordingWriter(existing, "overwrite", block_s=3600)
    w.add_stream("other", **SIG)
    w.write("other", ramp(0, 30))
    w.flush()                                  # sealed beside the old recording
    assert list(open_recording(existing).streams) == ["sig"]
    w.abort()


def test_overwrite_replaces_only_when_published(tmp_path):
    path = tmp_path / "rec"
    with RecordingWriter(path) as w:
        w.add_stream("old", **SIG)
    w = RecordingWriter(path, "overwrite", block_s=0.01)
    w.add_stream("new", **SIG)
    w.write("new", ramp(0, 10))
    w.flush()
    assert list(open_recording(path).streams) == ["old"]
    w.publish()
    assert list(open_recording(path).streams) == ["new"]
    w.write("new", ramp(10, 20))
    w.close()
    rec = open_recording(path)
    assert rec.committed and list(rec.streams) == ["new"]
    np.testing.assert_array_equal(rec["new"].read(), ramp(0, 20))
    assert sorted(os.listdir(tmp_path)) == ["rec"]


def test_create_aborted_removes_only_its_own_recording(tmp_path):
    w = RecordingWriter(tmp_path / "rec", block_s=0.01)
    w.add_stream("sig", **SIG)
    w.write("sig", ramp(0, 10))
    w.flush()
    w.abort()
    assert os.listdir(tmp_path) == []


def test_append_to_a_torn_recording_repairs_only_when_data_comes(tmp_path):
    path = tmp_path / "rec"
    w = RecordingWriter(path, block_s=3600)
    w.add_stream("sig", **SIG)
    w.write("sig", ramp(0, 40))
    w.flush()
    w._target.release()                        # as if killed: never committed
    with open(path / "segments" / "000000.afseg", "ab") as f:
        f.write(b"torn block bytes")
    torn = snapshot(path)
    RecordingWriter(path, "append").abort()    # nothing appended: not even the repair
    assert snapshot(path) == torn
    with RecordingWriter(path, "append") as w:
        w.write("sig", ramp(40, 50))
    np.testing.assert_array_equal(open_recording(path)["sig"].read(), ramp(0, 50))


def test_a_writer_with_the_same_run_continues_its_recording(tmp_path):
    path = tmp_path / "rec"
    for k, mode in enumerate(["create", "create", "overwrite"]):
        with RecordingWriter(path, mode, run="run-1") as w:
            assert w.mode == ("create" if k == 0 else "append")
            w.add_stream("sig", **SIG)
            w.write("sig", ramp(10 * k, 10 * k + 5), index=10 * k + 5)
    sig = open_recording(path)["sig"]
    assert sig.gaps == [(5, 10), (15, 20)]
    with pytest.raises(RecordingExistsError):
        RecordingWriter(path, "create", run="run-2")


def test_overwrite_killed_before_the_swap_is_cleaned_up_by_its_own_run_only(existing):
    for run in ("other-run", "this-run"):       # writers killed before publishing
        w = RecordingWriter(existing, "overwrite", run=run)
        w._target.release()                     # a kill frees the lock, leaves the files
    leftovers = sorted(n for n in os.listdir(existing.parent) if ".creating-" in n)
    assert len(leftovers) == 2
    w = RecordingWriter(existing, "overwrite", run="this-run")    # the rebuilt one
    w.abort()
    remaining = [n for n in os.listdir(existing.parent) if ".creating-" in n]
    assert len(remaining) == 1
    assert recording_run(existing.parent / remaining[0]) == "other-run"
    shutil.rmtree(existing.parent / remaining[0])   # (the test's own leftover)


# -- Recorder node -------------------------------------------------------------------
def _recorder(path, mode, **kw):
    out = OutputStream(name="sig")
    out.configure(protocol="inproc", **SIG)
    rec = Recorder(name="rec")
    rec.configure(streams={"sig": out}, dirname=path, mode=mode, **kw)
    return rec, out


def test_recorder_overwrite_whose_initialize_fails_keeps_the_old_recording(existing):
    rec, out = _recorder(existing, "overwrite", codecs={"sig": "png"})   # png: video only
    with pytest.raises(ValueError, match="only applies to video"):
        rec.initialize()
    out.close()


def test_recorder_overwrite_never_started_keeps_the_old_recording(existing):
    """E.g. another node of the graph failed to initialize or start: nothing recorded."""
    rec, out = _recorder(existing, "overwrite")
    rec.initialize()
    rec.close()
    out.close()


def test_recorder_append_with_other_streams_keeps_the_recording(existing):
    out = OutputStream(name="sig")
    out.configure(protocol="inproc", **dict(SIG, shape=(-1, 3)))
    rec = Recorder(name="rec")
    rec.configure(streams={"sig": out}, dirname=existing, mode="append")
    with pytest.raises(ValueError, match="different params"):
        rec.initialize()
    out.close()


# -- XDF import ----------------------------------------------------------------------
def _chunk(tag: int, content: bytes) -> bytes:
    return struct.pack("<BI", 4, len(content) + 2) + struct.pack("<H", tag) + content


def _xdf_with_a_bad_second_stream(path) -> None:
    """Stream 1: 2 float32 channels with samples; stream 2: a 2-channel string stream
    (refused by the importer after stream 1 was written)."""
    def header(sid, name, fmt, n):
        xml = (f'<?xml version="1.0"?><info><name>{name}</name><type>x</type>'
               f"<channel_count>{n}</channel_count><nominal_srate>100</nominal_srate>"
               f"<channel_format>{fmt}</channel_format></info>")
        return _chunk(2, struct.pack("<I", sid) + xml.encode())
    samples = b"".join(b"\x08" + struct.pack("<d", k / 100) + struct.pack("<ff", k, -k)
                       for k in range(20))
    strings = b"\x08" + struct.pack("<d", 0.5) + b"\x01\x01a\x01\x01b"
    data = (b"XDF:" + _chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')
            + header(1, "eeg", "float32", 2) + header(2, "marks", "string", 2)
            + _chunk(3, struct.pack("<I", 1) + b"\x01\x14" + samples)
            + _chunk(3, struct.pack("<I", 2) + b"\x01\x01" + strings))
    path.write_bytes(data)


@pytest.mark.parametrize("mode", ["append", "overwrite"])
def test_failed_xdf_import_keeps_the_recording(existing, tmp_path, mode):
    pytest.importorskip("pyxdf")
    from acqflow.storage import StorageError
    from acqflow.storage.import_xdf import from_xdf
    bad = tmp_path / "bad.xdf"
    _xdf_with_a_bad_second_stream(bad)
    with pytest.raises(StorageError):
        from_xdf(bad, existing, mode=mode)
    os.unlink(bad)


# -- LSL record ----------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["append", "overwrite"])
def test_lsl_record_with_no_stream_visible_keeps_the_recording(existing, mode):
    pytest.importorskip("pylsl")
    from acqflow.lsl.recorder import record
    absent = f"absent-{uuid.uuid4().hex[:8]}"
    with pytest.raises(RuntimeError, match="no LSL stream"):
        record(existing, duration=1, match=[absent], resolve_wait=0.2, mode=mode)


def test_lsl_cli_overwrite_with_no_stream_visible_keeps_out(existing, capsys):
    pytest.importorskip("pylsl")
    from acqflow.commands.lsl import main
    absent = f"absent-{uuid.uuid4().hex[:8]}"
    assert main(["record", str(existing), "--overwrite", "--match", absent,
                 "--resolve-wait", "0.2", "-q"]) == 1
    assert "no LSL stream" in capsys.readouterr().err


def test_run_stopped_before_start_keeps_the_old_recording(existing):
    """`acqflow run` interrupted while building: nothing starts, nothing is replaced."""
    import io
    import threading
    from acqflow.dataflow.graph.graphspec import GraphSpec
    from acqflow.manager.run import run_graph
    def run(path, mode):
        spec = GraphSpec.from_dict({
            "imports": ["tests.manager.testnodes"],
            "nodes": {"src": {"type": "Ramp"},
                      "rec": {"type": "Recorder", "params": {"streams": ["sig"], "mode": mode,
                                                             "dirname": str(path)}}},
            "connections": [{"from": "src.signals", "to": "rec.sig"}]}, source="g.yaml")
        stop, out = threading.Event(), io.StringIO()
        stop.set()
        assert run_graph(spec, stop=stop, out=out) == 0, out.getvalue()
        return out.getvalue()
    assert f"recording {existing}: committed" in run(existing, "overwrite")   # the old one
    new = existing.parent / "new"
    assert f"recording {new}: none made (its recorder never started)" in run(new, "create")
    assert not new.exists()
