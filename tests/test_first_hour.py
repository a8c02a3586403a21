"""What a new user trips on first: messages, `| head`, a demo without Qt, demo leftovers."""
import os
import subprocess
import sys

import numpy as np
import pytest

from acqflow import OutputStream, StreamError

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


def acqflow(*args, env=None, **kwargs):
    return subprocess.run([sys.executable, "-m", "acqflow.commands", *args], cwd=ROOT, text=True,
                          env=dict(env or os.environ, PYTHONPATH=ROOT), timeout=120, **kwargs)


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
    result = subprocess.run([sys.executable, "-m", "acqflow.commands", "demo", "--viewer",
                             "--duration", "1"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert "pip install 'acqflow[qt]'" in result.stderr and "PyQt5" in result.stderr


@pytest.mark.parametrize("keep", [False, True], ids=["removed", "kept"])
def test_the_demo_removes_its_temporary_recording_unless_kept(tmp_path, keep):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    result = acqflow("demo", "--duration", "0.5", "--channels", "2", "--no-viewer",
                     *(["--keep"] if keep else []), env=env, capture_output=True)
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
