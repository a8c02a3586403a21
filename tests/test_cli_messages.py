"""What acqflow says to a new user: each message names what is wrong and what to do, in one
line (a missing port, a remote URL, a missing extra, `| head`, Ctrl-C); help texts say what the
commands do; export and info summaries name what they wrote; the demo cleans up after itself."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from acqflow import OutputStream, StreamError
from acqflow.devices import SyntheticSignal
from acqflow.nodes import Expression
from acqflow.storage import RecordingWriter, open_recording
from acqflow.storage.cli import main as rec_main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# a sitecustomize that makes the qt extra unimportable, as in an install without it
NO_QT = '''
import sys
class NoQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PyQt5", "pyqtgraph"):
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, NoQt())
'''


def acqflow(*args, timeout=120, env=None, **kw):
    """`acqflow ARGS` in a child process (output captured unless ``stdout`` is given)."""
    if "stdout" not in kw:
        kw["capture_output"] = True
    return subprocess.run([sys.executable, "-m", "acqflow.cli", *map(str, args)], cwd=ROOT, text=True,
                          env=dict(env or os.environ, PYTHONPATH=ROOT), timeout=timeout, **kw)


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


@pytest.mark.parametrize("name, said", [(None, "an unnamed output is not configured"),
                                        ("sig", "output 'sig' is not configured")])
def test_send_before_configure_names_the_output(name, said):
    with pytest.raises(StreamError, match=f"^{said}; call configure"):
        OutputStream(name=name).send(np.zeros((1, 1)))


def test_a_reader_gone_from_the_pipe_ends_rec_info_quietly(tmp_path):
    """`acqflow rec info REC | head -2`: no '[Errno 32] Broken pipe' (here every write
    fails: the pipe's reader is closed before the command starts)."""
    from acqflow.storage import RecordingWriter
    with RecordingWriter(tmp_path / "rec") as w:
        for k in range(30):
            w.add_stream(f"s{k}", {"streamtype": "analogsignal", "shape": (-1, 2),
                                   "sample_rate": 100.0})
            w.write(f"s{k}", np.zeros((10, 2)), timestamp=1.0)
    r, w = os.pipe()
    os.close(r)
    try:
        result = acqflow("rec", "info", str(tmp_path / "rec"), stdout=w, stderr=subprocess.PIPE)
    finally:
        os.close(w)
    assert result.returncode == 1 and result.stderr == "", result.stderr


def test_demo_viewer_without_the_qt_extra_says_so_in_one_line(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(NO_QT)
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    result = subprocess.run([sys.executable, "-m", "acqflow.cli", "demo", "--viewer",
                             "--duration", "1"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert "pip install 'acqflow[qt]'" in result.stderr and "PyQt5" in result.stderr


@pytest.mark.parametrize("keep", [False, True], ids=["removed", "kept"])
def test_the_demo_removes_its_temporary_recording_unless_kept(short_tmp_path, keep):
    tmp_path = short_tmp_path           # the demo's TMPDIR, which holds its ipc sockets too
    env = dict(os.environ, TMPDIR=str(tmp_path))
    result = acqflow("demo", "--duration", "0.5", "--channels", "2", "--no-viewer",
                     *(["--keep"] if keep else []), env=env)
    assert result.returncode == 0, result.stderr
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith("acqflow-demo-")]
    assert len(left) == keep, left
    where = f"recording {tmp_path / left[0]}: committed=True" if keep else \
        f"removed the demo recording {tmp_path}{os.sep}acqflow-demo-"
    assert where in result.stdout, result.stdout


CTRL_C_SCRIPT = r"""
import atexit, os, signal
def cleanup():                     # registered before: runs after quiet_interrupt's own
    os.kill(os.getpid(), signal.SIGINT)          # a second Ctrl-C while the script ends
    total = sum(range(100000))                   # bytecodes: where it would be raised
    print("cleanup done", total, flush=True)
atexit.register(cleanup)
from acqflow.interrupt import quiet_interrupt
quiet_interrupt()
print("running", flush=True)
os.kill(os.getpid(), signal.SIGINT)              # Ctrl-C
sum(range(100000))
print("not reached")
"""


def test_quiet_interrupt_says_one_line_and_lets_the_clean_up_finish():
    result = subprocess.run([sys.executable, "-c", CTRL_C_SCRIPT], capture_output=True,
                            text=True, env=dict(os.environ, PYTHONPATH=ROOT), timeout=60)
    assert result.stderr == "interrupted\n"
    assert result.stdout.split("\n")[:2] == ["running", f"cleanup done {sum(range(100000))}"]
    assert result.returncode == -2                   # as a SIGINT ends a program
