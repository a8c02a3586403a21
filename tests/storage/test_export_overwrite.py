"""Exports refuse an existing output unless asked to overwrite, and a failed export leaves
neither a half file nor a damaged previous one (written beside, renamed at the end)."""
import os

import numpy as np
import pytest

from acqflow.storage import RecordingWriter, open_recording
from acqflow.commands.rec import main as rec_main

EVENT = np.dtype([("index", "int64"), ("time", "float64"), ("label", "S8")])
OLD = b"the previous export\n"


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    """'sig' (float32, 1 kHz, a gap [100:200)), 'ev' (events), 'cam' (8x8 rgb video)."""
    path = tmp_path_factory.mktemp("ow") / "rec"
    t = 1_700_000_000.0
    with RecordingWriter(path) as w:
        w.add_stream("sig", streamtype="analogsignal", dtype="float32", shape=(-1, 2),
                     sample_rate=1000.0)
        w.add_stream("ev", streamtype="event", dtype=EVENT.descr, shape=(-1,), sample_rate=1.0)
        w.add_stream("cam", streamtype="video", dtype="uint8", shape=(-1, 8, 8, 3),
                     sample_rate=10.0)
        w.write("sig", np.zeros((100, 2), "float32"), timestamp=t + 0.099)
        w.write("sig", np.ones((100, 2), "float32"), index=300, timestamp=t + 0.299)
        w.write("ev", np.array([(0, t, b"go")], EVENT), timestamp=t)
        w.write("cam", np.full((3, 8, 8, 3), 200, "uint8"), timestamp=t + 0.2)
    return open_recording(path)


def _exports(rec):
    """format -> (export(out, overwrite), a failing export(out) or None)."""
    from acqflow.storage import to_csv, to_npy, to_wav
    from acqflow.storage.export_hdf5 import to_hdf5
    from acqflow.storage.export_video import to_video
    from acqflow.storage.export_xdf import to_xdf
    sig, cam = rec["sig"], rec["cam"]
    out = {
        "npy": (lambda p, ow: to_npy(sig, p, fill=0, progress=False, overwrite=ow),
                lambda p: to_npy(sig, p, fill="not a number", progress=False)),
        "csv": (lambda p, ow: to_csv(sig, p, progress=False, overwrite=ow), None),
        "wav": (lambda p, ow: to_wav(sig, p, progress=False, overwrite=ow),
                lambda p: to_wav(sig, p, fill="not a number", progress=False)),
        "mkv": (lambda p, ow: to_video(cam, p, progress=False, overwrite=ow), None),
        "h5": (lambda p, ow: to_hdf5([sig, rec["ev"]], p, progress=False, overwrite=ow),
               lambda p: to_hdf5([sig], p, progress=False, compression="no-such-filter")),
        "xdf": (lambda p, ow: to_xdf([sig, rec["ev"]], p, progress=False, overwrite=ow), None),
    }
    try:
        from acqflow.storage.export_nwb import to_nwb
        import pynwb  # noqa: F401
    except ImportError:
        return out
    out["nwb"] = (lambda p, ow: to_nwb([sig, cam], p, progress=False, overwrite=ow),
                  lambda p: to_nwb([sig], p, fill="not a number", progress=False))
    return out


FORMATS = ["npy", "csv", "wav", "mkv", "h5", "xdf", "nwb"]


def _leftovers(d):
    return sorted(n for n in os.listdir(d) if n.startswith("."))


@pytest.mark.parametrize("fmt", FORMATS)
def test_api_refuses_an_existing_output_unless_overwrite(rec, tmp_path, fmt):
    exports = _exports(rec)
    if fmt not in exports:
        pytest.skip(f"{fmt}: its library is not installed")
    export, fail = exports[fmt]
    out = tmp_path / f"out.{fmt}"
    out.write_bytes(OLD)
    with pytest.raises(FileExistsError, match=f"{out.name} exists; pass overwrite=True"):
        export(out, False)
    assert out.read_bytes() == OLD and _leftovers(tmp_path) == []
    if fail is not None:                # fails half-way: the previous file stays whole
        with pytest.raises(Exception):
            fail(out) if fmt != "npy" else fail(tmp_path / "new.npy")
        assert out.read_bytes() == OLD and _leftovers(tmp_path) == []
        assert not (tmp_path / "new.npy").exists()
    assert export(out, True) == out
    assert out.read_bytes() != OLD and out.stat().st_size > 100
    assert _leftovers(tmp_path) == []
    if fmt == "npy":
        assert np.load(out).shape == (300, 2)
    if fmt == "nwb":              # the external movie is refused too, then written beside
        movie = tmp_path / "out_cam.mp4"
        assert movie.stat().st_size > 0
        with pytest.raises(FileExistsError, match="out.nwb exists"):
            export(out, False)
        out.unlink()
        with pytest.raises(FileExistsError, match="out_cam.mp4 exists"):
            export(out, False)
        assert not out.exists() and _leftovers(tmp_path) == []


def test_wav_parts_refuse_when_any_part_exists(tmp_path):
    from acqflow.storage.export import to_wav_parts
    path = tmp_path / "paused"
    with RecordingWriter(path) as w:
        w.add_stream("a", streamtype="analogsignal", dtype="float32", shape=(-1, 1),
                     sample_rate=100.0)
        w.write("a", np.zeros((100, 1), "float32"), timestamp=10.99)
        w.write("a", np.zeros((100, 1), "float32"), timestamp=31.99)    # a 20 s pause
    stream = open_recording(path)["a"]
    (tmp_path / "a.part2.wav").write_bytes(OLD)
    with pytest.raises(FileExistsError, match="a.part2.wav exists"):
        to_wav_parts(stream, tmp_path / "a.wav", progress=False)
    assert not (tmp_path / "a.wav").exists()
    parts = to_wav_parts(stream, tmp_path / "a.wav", progress=False, overwrite=True)
    assert [p.name for p, _ in parts] == ["a.wav", "a.part2.wav"]
    assert (tmp_path / "a.part2.wav").read_bytes() != OLD


@pytest.mark.parametrize("fmt,stream", [("npy", "sig"), ("csv", "sig"), ("wav", "sig"),
                                        ("mkv", "cam"), ("h5", "all"), ("xdf", "sig"),
                                        ("nwb", "sig")])
def test_cli_refuses_an_existing_output_unless_overwrite(rec, tmp_path, capsys, fmt, stream):
    if fmt == "nwb":
        pytest.importorskip("pynwb")
    out = tmp_path / f"out.{fmt}"
    out.write_bytes(OLD)
    extra = ["--fill", "0"] if fmt == "npy" else []
    assert rec_main(["export", rec.url, stream, "--out", str(out), "-q", *extra]) == 1
    err = capsys.readouterr().err
    assert err == f"acqflow rec export: {out} exists; use --overwrite to replace it\n"
    assert out.read_bytes() == OLD
    assert rec_main(["export", rec.url, stream, "--out", str(out), "-q", "--overwrite",
                     *extra]) == 0
    assert out.read_bytes() != OLD and _leftovers(tmp_path) == []
