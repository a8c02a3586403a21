"""XDF import: a file written by LabRecorder's engine (recording real pylsl outlets in other
processes) becomes a recording holding exactly what pyxdf reads; re-exported, it reads the same."""
import numpy as np
import pytest

from acqflow.storage import StorageError, open_recording
from acqflow.storage.cli import main as rec_main
from acqflow.testing import wait_for
from tests.lsl.conftest import Source

pyxdf = pytest.importorskip("pyxdf")
pylsl = pytest.importorskip("pylsl")
from acqflow.storage.export_xdf import to_xdf, xdf_streams  # noqa: E402
from acqflow.storage.import_xdf import from_xdf  # noqa: E402


def load(path, **kw):
    kw.setdefault("synchronize_clocks", False)
    kw.setdefault("dejitter_timestamps", False)
    streams, _ = pyxdf.load_xdf(str(path), **kw)
    return {s["info"]["name"][0]: s for s in streams}


@pytest.fixture(scope="module")
def labrecorder_file(tmp_path_factory):
    """An XDF file from LabRecorder's engine: a float64 EEG stream, an int32 stream, markers."""
    labrecorder = pytest.importorskip("labrecorder")
    import uuid
    prefix = f"lr-{uuid.uuid4().hex[:8]}"
    cfgs = [dict(name=f"{prefix}-eeg", type="EEG", channels=4, rate=250.0, n=500, chunk=25,
                 format="cf_double64", dtype="float64", source_id=f"{prefix}-eeg"),
            dict(name=f"{prefix}-counts", type="Misc", channels=2, rate=50.0, n=100, chunk=5,
                 format="cf_int32", dtype="int32"),
            dict(name=f"{prefix}-markers", type="Markers", channels=1, rate=0, n=30,
                 format="cf_string")]
    sources = [Source(**c) for c in cfgs]
    path = tmp_path_factory.mktemp("xdf") / "labrecorder.xdf"
    try:
        infos = []
        for c in cfgs:
            found = pylsl.resolve_byprop("name", c["name"], 1, 30)
            assert found, c["name"]
            infos += found
        rec = labrecorder.Recording(str(path), infos)
        for s in sources:
            assert s.read_until("pushed")["pushed"] == s.cfg["n"]

        sizes = []

        def settled():       # LabRecorder writes what it pulled every ~0.5 s
            sizes.append(path.stat().st_size if path.exists() else 0)
            return len(sizes) > 2 and sizes[-1] == sizes[-3] > 0
        wait_for(settled, timeout=30, interval=1.0)
        rec.stop()
        del rec
    finally:
        for s in sources:
            s.stop()
    return path, prefix


def test_import_holds_exactly_what_pyxdf_reads(labrecorder_file, tmp_path):
    path, prefix = labrecorder_file
    ref = load(path)
    assert len(ref) == 3
    out = from_xdf(path, tmp_path / "rec")
    rec = open_recording(out)
    assert rec.committed and rec.intact
    for name, x in ref.items():
        s = rec[name]
        meta = s.entry["metadata"]
        assert meta["lsl_name"] == name
        assert meta["lsl_source_id"] == (x["info"]["source_id"][0] or "")
        assert meta["lsl_channel_format"] == x["info"]["channel_format"][0]
        assert meta["nominal_srate"] == float(x["info"]["nominal_srate"][0])
        assert s.clock_sync["lsl_offsets"] == [[t, v] for t, v in zip(x["clock_times"],
                                                                     x["clock_values"])]
        assert len(x["clock_times"]) >= 1
        if x["info"]["channel_format"][0] == "string":
            ev = s.read()
            assert [b.decode() for b in ev["label"]] == [v[0] for v in x["time_series"]]
            np.testing.assert_array_equal(ev["time"], x["time_stamps"])
        else:
            assert str(s.dtype) == str(x["time_series"].dtype)
            np.testing.assert_array_equal(s.read(), x["time_series"])
            np.testing.assert_array_equal(rec[name + ".timestamps"].read()[:, 0],
                                          x["time_stamps"])
            assert [c["name"] for c in s.channel_info] == [f"C{c}" for c in range(s.shape[1])]
            assert {c["units"] for c in s.channel_info} == {"microvolts"}
    eeg = ref[f"{prefix}-eeg"]
    n = len(eeg["time_stamps"])                   # what LabRecorder pulled before stop()
    assert n > 0
    np.testing.assert_array_equal(eeg["time_series"][:, 0], np.arange(n) * 4)


def test_reexport_reads_identically(labrecorder_file, tmp_path):
    path, _ = labrecorder_file
    rec = open_recording(from_xdf(path, tmp_path / "rec"))
    again = to_xdf(xdf_streams(rec.streams.values()), tmp_path / "again.xdf", progress=False)
    for kw in ({}, {"synchronize_clocks": True, "dejitter_timestamps": True}):
        a, b = load(path, **kw), load(again, **kw)
        assert set(a) == set(b)
        for name in a:
            if a[name]["info"]["channel_format"][0] == "string":
                assert a[name]["time_series"] == b[name]["time_series"]
            else:
                np.testing.assert_array_equal(a[name]["time_series"], b[name]["time_series"])
            np.testing.assert_allclose(a[name]["time_stamps"], b[name]["time_stamps"],
                                       rtol=0, atol=1e-9)
            assert a[name]["clock_values"] == b[name]["clock_values"]
            for key in ("name", "type", "source_id", "channel_format", "nominal_srate", "desc"):
                assert a[name]["info"][key] == b[name]["info"][key]


def test_cli_import_and_damaged_files(labrecorder_file, tmp_path, capsys):
    """A LabRecorder file cut anywhere imports every complete chunk: exactly what pyxdf reads
    of the file cut at the last whole chunk (pyxdf itself, on the cut file, may keep a chunk
    whose last values are missing)."""
    from tests.storage.xdf_build import (assert_holds, boundaries, first_header_end,
                                         pyxdf_streams)
    path, prefix = labrecorder_file
    assert rec_main(["import", str(path), str(tmp_path / "rec")]) == 0
    assert "3 streams" in capsys.readouterr().out
    data = path.read_bytes()
    ends, first = boundaries(data), first_header_end(data)
    step = max(1, (len(data) - first) // 15)
    cuts = [3, 40, len(data) // 3, len(data) - 7] + list(range(first, len(data), step))
    for k, cut in enumerate(cuts):
        bad = tmp_path / f"bad{k}.xdf"
        bad.write_bytes(data[:cut])
        if cut < first:
            with pytest.raises(StorageError, match="not a readable XDF|no complete StreamHeader"):
                from_xdf(bad, tmp_path / f"bad{k}")
            assert not (tmp_path / f"bad{k}").exists()
            continue
        rec = open_recording(from_xdf(bad, tmp_path / f"bad{k}"))
        ref = tmp_path / f"ref{k}.xdf"
        ref.write_bytes(data[:max(e for e in ends if e <= cut)])
        assert_holds(rec, pyxdf_streams(ref))
    assert rec_main(["import", str(tmp_path / "bad0.xdf"), str(tmp_path / "cli-bad")]) == 1
    assert "not a readable XDF file" in capsys.readouterr().err
