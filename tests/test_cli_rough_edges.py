"""A newcomer's rough edges (issue 14, point 12): each message names what is wrong and
what to do; help texts say what the commands do."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from acqflow.devices import SyntheticSignal
from acqflow.nodes import Expression
from acqflow.storage import RecordingWriter, open_recording
from acqflow.commands.rec import main as rec_main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def acqflow(*args, timeout=120, **kw):
    return subprocess.run([sys.executable, "-m", "acqflow.commands", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, **kw)


def test_connect_to_a_node_and_a_missing_port_say_what_to_do():
    dev, filt = SyntheticSignal(name="dev"), Expression(name="filt")
    dev.configure()
    filt.configure()
    with pytest.raises(KeyError, match=r"node 'dev' has no output 'signal' \(outputs: signals\)"):
        dev.outputs["signal"]
    with pytest.raises(KeyError, match=r"node 'filt' has no input 'inp' \(inputs: input\)"):
        filt.inputs["inp"]
    with pytest.raises(AttributeError, match=r"node 'dev' is a node, not an output stream: "
                                             r"connect\(\) takes an OutputStream.*dev.outputs\['signals'\]"):
        filt.input.connect(dev)
    assert not hasattr(dev, "params")
    node = type("NoOut", (SyntheticSignal,), {"_output_specs": {}})(name="x")
    with pytest.raises(AttributeError, match=r"has 0 outputs"):     # property errors kept
        node.output


def test_remote_url_without_storage_options_is_one_line():
    r = acqflow("rec", "info", "s3://acqflow-nowhere/rec", "--storage-options",
                '{"client_kwargs": {"endpoint_url": "http://127.0.0.1:9"}, "key": "k", "secret": "s"}',
                timeout=300)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("acqflow rec info: ") and "Traceback" not in r.stderr


def test_help_texts():
    assert "three processes" in acqflow("--help").stdout
    bench = acqflow("bench", "--help").stdout
    for mode in ("--rpc", "--storage", "--nodes", "--viewers", "--rec", "--soak"):
        assert mode in bench.split("stream transport options:")[0]
    demo = acqflow("demo", "--help").stdout
    assert "synthetic channels" in demo
    export = acqflow("rec", "export", "--help").stdout
    assert "unless --fill is given" in " ".join(export.split())


def test_export_summaries_name_what_they_wrote(tmp_path, capsys):
    pytest.importorskip("cv2")
    vid = tmp_path / "vid"
    frames = (np.arange(4)[:, None, None, None] * 20 + np.zeros((4, 24, 32, 3))).astype("u1")
    with RecordingWriter(vid) as w:
        w.add_stream("cam", {"streamtype": "video", "shape": (-1, 24, 32, 3), "sample_rate": 15.0})
        w.write("cam", frames)
    assert rec_main(["export", str(vid), "cam", "--out", str(tmp_path / "cam.mkv")]) == 0
    assert "(mkv, stream 'cam')" in capsys.readouterr().out
    pytest.importorskip("pynwb")
    assert rec_main(["export", str(vid), "cam", "--out", str(tmp_path / "cam.nwb")]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'cam_cam.mp4'}" in out and (tmp_path / "cam_cam.mp4").exists()


def test_event_streams_are_not_shown_at_1_hz(tmp_path, capsys):
    rec = tmp_path / "rec"
    with RecordingWriter(rec) as w:
        w.add_stream("ev", {"streamtype": "event", "sample_rate": 1.0})
    assert rec_main(["info", str(rec)]) == 0
    out = capsys.readouterr().out
    assert "ev: event" in out and "irregular (events)" in out and "1 Hz" not in out


def test_imported_media_is_dated_from_the_file(tmp_path):
    import wave
    path = tmp_path / "a.wav"
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(1000)
        f.writeframes(np.zeros(2000, "<i2").tobytes())
    assert rec_main(["import", str(path), str(tmp_path / "imp")]) == 0
    start, stop = open_recording(tmp_path / "imp")["audio"].time_range
    mtime = os.stat(path).st_mtime
    assert abs(stop - mtime) < 2 and abs(time.time() - start) < 3600   # not 1970


def test_missing_camera_message_comes_without_opencv_warnings():
    pytest.importorskip("cv2")
    code = ("from acqflow.devices.camera import Camera\n"
            "try:\n    Camera(name='cam').configure(device=57)\n"
            "except ValueError as e:\n    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "cam: cannot open camera 57" in r.stdout
    assert "WARN" not in r.stderr, r.stderr
