"""`acqflow rec info|export|verify|upload` via `python -m acqflow.commands.rec`."""
import csv
import json
import os
import shutil
import subprocess
import sys
import wave

import numpy as np
import pytest

from acqflow.storage import RecordingWriter, open_recording
from acqflow.commands.rec import main
from tests.storage.source import EV_PARAMS, SIG_PARAMS, make_recording, write_chunks
from tests.storage.video import read_video

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rec_cli(*args):
    return subprocess.run([sys.executable, "-m", "acqflow.commands.rec", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "rec"
    make_recording(path, 40, block_s=0.001, block_bytes=8000)
    return path


def test_info_text_and_json(recording):
    result = rec_cli("info", recording)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "committed" in out and "intact" in out
    assert "sig: analogsignal float32 shape (-1, 16) at 1000 Hz" in out
    assert "gaps: 3" in out and "ev: event" in out
    result = rec_cli("rec", "info", recording, "--json")
    info = json.loads(result.stdout)
    ref = open_recording(recording)
    sig = info["streams"]["sig"]
    assert info["committed"] and info["intact"] and info["blocks"] == ref.n_blocks
    assert (sig["first_index"], sig["stop_index"]) == (0, ref["sig"].stop_index)
    assert sig["gaps"] == len(ref["sig"].gaps)
    assert sig["time_range"] == list(ref["sig"].time_range)


def test_export_npy_csv_wav(recording, tmp_path):
    ref = open_recording(recording)["sig"]
    a, b = ref.gaps[0][1], ref.gaps[1][0]                 # a range without gaps
    r = rec_cli("export", recording, "sig", "--out", tmp_path / "x.npy", "--start", a,
                "--stop", b)
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), ref[a:b])
    r = rec_cli("export", recording, "sig", "--out", tmp_path / "all.npy")
    assert r.returncode == 1 and "gap" in r.stderr                 # gaps need --fill
    assert main(["export", str(recording), "sig", "--out", str(tmp_path / "all.npy"),
                 "--fill", "auto"]) == 0
    full = np.load(tmp_path / "all.npy")
    assert np.isnan(full[ref.gaps[0][0]]).all() and len(full) == len(ref)
    assert main(["export", str(recording), "ev", "--format", "csv",
                 "--out", str(tmp_path / "ev.txt")]) == 0
    rows = list(csv.reader(open(tmp_path / "ev.txt")))
    # the event fields have their own index: no duplicated column name (issue 14, point 12)
    assert rows[0] == ["stream_index", "stream_time", "index", "label"] and len(rows) == 1 + len(
        open_recording(recording)["ev"])
    assert main(["export", str(recording), "sig", "--out", str(tmp_path / "s.wav"),
                 "--full-scale", "70000"]) == 0
    with wave.open(str(tmp_path / "s.wav")) as w:
        assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (16, 1000, len(ref))
    assert main(["export", str(recording), "sig", "--out", str(tmp_path / "s.xyz")]) == 2
    assert main(["export", str(recording), "nope", "--out", str(tmp_path / "n.npy")]) == 1


def test_export_hdf5_and_video_quiet(recording, tmp_path):
    h5py = pytest.importorskip("h5py")
    pytest.importorskip("cv2")
    rec = open_recording(recording)
    r = rec_cli("export", recording, "all", "--out", tmp_path / "all.h5", "--quiet")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""           # --quiet: no bar, no summary
    with h5py.File(tmp_path / "all.h5") as f:
        assert set(f) == {"sig", "ev"}
        np.testing.assert_array_equal(f["sig"]["data"][()], rec["sig"].read(fill="auto"))
        assert [tuple(g) for g in f["sig"]["gaps"][()]] == rec["sig"].gaps
    assert main(["export", str(recording), "sig,ev", "--out", str(tmp_path / "x.csv")]) == 2
    assert main(["export", str(recording), "sig", "--out", str(tmp_path / "x.mp4")]) == 1
    # a video stream to AVI (lossless FFV1) read back with OpenCV
    vid = tmp_path / "vid"
    frames = (np.arange(8)[:, None, None, None] * 20 + np.zeros((8, 24, 32, 3))).astype("u1")
    with RecordingWriter(vid) as w:
        w.add_stream("cam", {"streamtype": "video", "shape": (-1, 24, 32, 3),
                             "sample_rate": 15.0}, codec="png")
        w.write("cam", frames)
    r = rec_cli("export", vid, "cam", "--out", tmp_path / "cam.avi", "--fourcc", "FFV1")
    assert r.returncode == 0, r.stderr
    got, _fps = read_video(tmp_path / "cam.avi")
    np.testing.assert_array_equal(got, frames)


def test_export_nwb(recording, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    rec = open_recording(recording)
    assert main(["export", str(recording), "all", "--out", str(tmp_path / "all.nwb"), "-q"]) == 0
    with pynwb.NWBHDF5IO(str(tmp_path / "all.nwb"), "r") as io:
        f = io.read()
        np.testing.assert_array_equal(f.acquisition["sig"].data[()], rec["sig"].read(fill="auto"))
        assert len(f.events["ev"]) == len(rec["ev"])


def test_import_wav_and_cache_command(tmp_path):
    x = (np.arange(6000).reshape(-1, 2) % 300).astype("<i2")
    with wave.open(str(tmp_path / "in.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(1000)
        w.writeframes(x.tobytes())
    r = rec_cli("import", tmp_path / "in.wav", tmp_path / "imp", "--name", "mic")
    assert r.returncode == 0, r.stderr
    assert "'mic'" in r.stdout and "not copied" in r.stdout
    np.testing.assert_array_equal(open_recording(tmp_path / "imp")["mic"][:], x)
    assert main(["info", str(tmp_path / "imp")]) == 0
    assert main(["import", str(tmp_path / "in.wav"), str(tmp_path / "imp")]) == 1  # exists
    r = rec_cli("cache", "stats")
    assert r.returncode == 0 and "load factor" in r.stdout and "ACQFLOW_CACHE_DIR" in r.stdout
    r = rec_cli("cache", "clear")
    assert r.returncode == 0 and " 0 entries" in r.stdout
    env = {**os.environ, "ACQFLOW_CACHE_SIZE_BYTES": "big"}
    r = subprocess.run([sys.executable, "-m", "acqflow.commands.rec", "cache"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 1 and "ACQFLOW_CACHE_SIZE_BYTES" in r.stderr and "'big'" in r.stderr


def test_verify_good_torn_and_damaged(recording, tmp_path):
    r = rec_cli("verify", recording)
    assert r.returncode == 0 and "OK, committed" in r.stdout, r.stdout + r.stderr
    # An uncommitted recording with a torn tail is fine (the tail is dropped).
    torn = tmp_path / "torn"
    w = RecordingWriter(torn, block_s=0.001, block_bytes=4000, fsync="none")
    w.add_stream("sig", SIG_PARAMS)
    w.add_stream("ev", EV_PARAMS)
    write_chunks(w, 0, 30)
    w.flush()
    seg = torn / "segments" / "000000.afseg"
    with open(seg, "ab") as f:
        f.write(b"AFB1 half a block")
    r = rec_cli("verify", torn)
    assert r.returncode == 0 and "torn tail 17 bytes" in r.stdout
    assert f"being written (pid {os.getpid()} on this host, last write" in r.stdout
    w.close()
    # A flipped byte inside a sealed block is damage: exit status 1.
    bad = tmp_path / "bad"
    shutil.copytree(recording, bad)
    seg = bad / "segments" / "000000.afseg"
    data = bytearray(seg.read_bytes())
    data[len(data) // 2] ^= 0xFF
    seg.write_bytes(bytes(data))
    r = rec_cli("verify", bad)
    assert r.returncode == 1 and "DAMAGED" in r.stdout and "damage:" in r.stdout
    assert main(["info", str(bad)]) == 0                 # info reads no payload: fast, lazy
    assert main(["verify", str(tmp_path / "missing")]) == 1
    assert main(["frobnicate"]) == 2 and main(["--help"]) == 0


def test_upload_then_info_on_s3(recording, tmp_path):
    moto_server = pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        options = {"key": "testing", "secret": "testing",
                   "client_kwargs": {"endpoint_url": f"http://{host}:{port}",
                                     "region_name": "us-west-2"}}
        s3fs.S3FileSystem(**options).mkdir("clibucket")
        opts = json.dumps(options)
        url = "s3://clibucket/r1"
        r = rec_cli("upload", recording, url, "--storage-options", opts)
        assert r.returncode == 0, r.stderr
        r = rec_cli("info", url, "--json", "--storage-options", opts,
                    "--cache-dir", tmp_path / "cache")
        assert r.returncode == 0, r.stderr
        info = json.loads(r.stdout)
        ref = json.loads(rec_cli("info", recording, "--json").stdout)
        assert info["streams"] == ref["streams"] and info["committed"]
        r = rec_cli("verify", url, "--storage-options", opts, "--cache-dir", tmp_path / "cache")
        assert r.returncode == 0 and "OK" in r.stdout, r.stdout + r.stderr
        assert main(["upload", url, url]) == 2
        assert main(["info", url, "--storage-options", "[1]"]) == 2
    finally:
        server.stop()
