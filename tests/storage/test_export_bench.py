"""Export to .npy/.csv/.wav, and lazy optional imports."""
import ast
import csv
import wave
from pathlib import Path

import numpy as np
import pytest

from acqflow.storage import GapError, RecordingWriter, open_recording
from acqflow.storage.export import to_csv, to_npy, to_wav
from acqflow.testing import loaded_after_import
from tests.storage.source import BOUNDS, analog, chunk_range, make_recording

PKG = Path(__file__).resolve().parents[2] / "acqflow" / "storage"


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "rec"
    make_recording(path, 30)
    return open_recording(path)


def test_npy(rec, tmp_path):
    sig = rec["sig"]
    a, b = chunk_range(1)[0], chunk_range(6)[1]
    to_npy(sig, tmp_path / "a.npy", a, b)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), analog(a, b))
    with pytest.raises(GapError):
        to_npy(sig, tmp_path / "b.npy")
    to_npy(sig, tmp_path / "b.npy", fill="auto")
    full = np.load(tmp_path / "b.npy")
    g0, g1 = chunk_range(7)
    assert np.isnan(full[g0:g1]).all()
    np.testing.assert_array_equal(full[:g0], analog(0, g0))


def test_csv(rec, tmp_path):
    to_csv(rec["sig"], tmp_path / "sig.csv", 0, chunk_range(9)[1])
    rows = list(csv.reader(open(tmp_path / "sig.csv")))
    assert rows[0][:4] == ["index", "time", "ch0", "ch1"] and len(rows[0]) == 18
    g0, g1 = chunk_range(7)
    idx = [int(r[0]) for r in rows[1:]]
    assert g0 not in idx and g1 in idx and len(idx) == chunk_range(9)[1] - (g1 - g0)
    k = idx.index(g1)
    np.testing.assert_allclose([float(v) for v in rows[1 + k][2:]], analog(g1, g1 + 1)[0])
    assert float(rows[1 + k][1]) == pytest.approx(rec["sig"].time_at(g1))
    to_csv(rec["ev"], tmp_path / "ev.csv")
    ev_rows = list(csv.reader(open(tmp_path / "ev.csv")))
    assert ev_rows[0] == ["stream_index", "stream_time", "index", "label"]   # no duplicated name
    assert ev_rows[1][2:] == [str(BOUNDS[0]), "k0"]


def test_wav(tmp_path):
    path = tmp_path / "audio"
    tone = (0.5 * np.sin(np.arange(8000) / 8000 * 2 * np.pi * 440)).astype(np.float32)
    with RecordingWriter(path) as w:
        w.add_stream("mic", {"streamtype": "analogsignal", "shape": (-1, 2),
                             "sample_rate": 8000})
        w.add_stream("pcm", {"streamtype": "analogsignal", "dtype": "int16", "shape": (-1, 1),
                             "sample_rate": 8000})
        w.write("mic", np.stack([tone, -tone], 1))
        w.write("pcm", (tone[:, None] * 20000).astype(np.int16))
    rec = open_recording(path)
    to_wav(rec["mic"], tmp_path / "mic.wav")
    with wave.open(str(tmp_path / "mic.wav")) as f:
        assert (f.getnchannels(), f.getsampwidth(), f.getframerate(), f.getnframes()) == \
            (2, 2, 8000, 8000)
        pcm = np.frombuffer(f.readframes(8000), "<i2").reshape(-1, 2)
    np.testing.assert_allclose(pcm[:, 0] / 32767, tone, atol=1e-4)
    to_wav(rec["pcm"], tmp_path / "pcm.wav")
    with wave.open(str(tmp_path / "pcm.wav")) as f:
        got = np.frombuffer(f.readframes(8000), "<i2")
    np.testing.assert_array_equal(got, (tone * 20000).astype(np.int16))


def test_optional_libraries_are_imported_lazily():
    """cv2, h5py and tqdm only inside the functions that need them; of dataflow, storage uses
    only the stream vocabulary, the clock, parameter checks
    and the time model.  (No rpc/nodes/devices/viewers/Qt/pickle: the
    import-linter contracts in pyproject.toml, tests/test_lint.py; module size: tests/test_docs.py.)"""
    lazy = {"cv2": {"codec.py", "export_video.py", "external.py"}, "h5py": {"export_hdf5.py"},
            "tqdm.auto": {"progress.py"}}
    for py in PKG.glob("*.py"):
        for node in ast.walk(ast.parse(py.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name.startswith("acqflow.dataflow"):
                    assert name in ("acqflow.dataflow", "acqflow.dataflow.spec", "acqflow.dataflow.plain",
                                    "acqflow.dataflow.shortrepr", "acqflow.dataflow.stats",
                                    "acqflow.dataflow.clock", "acqflow.dataflow.paramcheck",
                                    "acqflow.dataflow.timemodel"), (py, name)
                if name.startswith(("cv2", "h5py", "tqdm")):
                    assert py.name in lazy.get(name, ()) and node.col_offset > 0, (py, name)
    assert loaded_after_import(["acqflow.storage", "acqflow.storage.export", "acqflow.storage.export_video",
                                "acqflow.storage.export_hdf5", "acqflow.storage.cli"],
                               ["cv2", "PyQt5", "h5py", "tqdm", "av", "acqflow.rpc",
                                "acqflow.nodes"]) == []
