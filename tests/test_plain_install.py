"""`pip install acqflow` with no extras: build the wheel, install it in a fresh venv, import
every package and start every command (the venv takes about 10 s to make)."""
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from acqflow.testing import run_python

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["--help", "--version", "demo --help", "run --help", "bench --help",
            "host --help", "keys --help", "rec --help", "rec info --help",
            "rec export --help", "rec import --help", "lsl --help", "lsl record --help",
            "lsl list --help"]
EXTRAS_MODULES = ["fsspec", "pylsl", "pyxdf", "PyQt5", "pyqtgraph", "cv2", "sounddevice", "h5py",
                  "pynwb", "tqdm", "brainflow", "dask", "xarray", "aiohttp", "nwbinspector"]

PROBE = r"""
import importlib, json, pkgutil, sys
import acqflow
out = {"version": acqflow.__version__, "file": acqflow.__file__, "ok": [], "failed": {}}
for m in pkgutil.walk_packages(acqflow.__path__, "acqflow."):
    if not m.ispkg:
        continue
    try:
        importlib.import_module(m.name)
        out["ok"].append(m.name)
    except ImportError as exc:
        out["failed"][m.name] = str(exc)
out["extras_present"] = [n for n in sys.argv[1:] if importlib.util.find_spec(n)]
print(json.dumps(out))
"""


# the venv's python sees only what is installed in it, not this checkout nor this venv; it
# keeps the modules it compiles (installed without .pyc files: see plain_venv)
PLAIN_ENV = {"PYTHONPATH": None, "VIRTUAL_ENV": None, "PYTHONDONTWRITEBYTECODE": None}


def _run(cmd: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in PLAIN_ENV}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def plain_venv(tmp_path_factory):
    """(python, acqflow script) of a fresh venv holding the wheel and only core deps."""
    tmp = tmp_path_factory.mktemp("plain")
    dist = tmp / "dist"
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist),
              str(ROOT)], cwd=tmp)
    assert r.returncode == 0, r.stderr[-2000:]
    wheel = next(dist.glob("acqflow-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "acqflow/py.typed" in names
    assert any(n.endswith("LICENSE") for n in names), names[-10:]
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    # this pip installs into the venv (its own pip would take 4 s more to set up), without
    # compiling every module of numpy and scipy first (a third of the time; what a command
    # imports is compiled as it starts)
    r = _run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-compile",
              str(wheel)], cwd=tmp)
    assert r.returncode == 0, r.stderr[-2000:]
    return py, env_dir / "bin" / "acqflow"


@pytest.mark.timeout(300)
def test_every_package_imports_without_extras(plain_venv, tmp_path):
    import json
    py, _ = plain_venv
    out = json.loads(run_python(PROBE, *EXTRAS_MODULES, python=py, env=PLAIN_ENV, cwd=tmp_path,
                                timeout=300).stdout)
    assert out["extras_present"] == []          # really a plain install
    assert "site-packages" in out["file"]        # the wheel, not this checkout
    for name in ("acqflow.dataflow", "acqflow.rpc", "acqflow.manager", "acqflow.devices",
                 "acqflow.nodes", "acqflow.storage", "acqflow.lsl", "acqflow.compat"):
        assert name in out["ok"], out["failed"]
    # the Qt viewers (acqflow's, and pyacq's names for them) are all optional dependency:
    # they name their extra
    assert set(out["failed"]) <= {"acqflow.viewers", "acqflow.compat.pyacq.viewers"}, out["failed"]
    for text in out["failed"].values():
        assert "pip install acqflow[qt]" in text


@pytest.mark.timeout(300)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_starts_without_extras(plain_venv, tmp_path, command):
    py, script = plain_venv
    r = _run([str(script), *command.split()], cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    if command == "--version":
        import acqflow
        assert r.stdout.strip() == f"acqflow {acqflow.__version__}"


@pytest.mark.timeout(300)
def test_missing_extras_are_named(plain_venv, tmp_path):
    """A local recording works without extras; a remote URL and LSL name their extra."""
    py, script = plain_venv
    code = ("import numpy as np\n"
            "from acqflow.storage import RecordingWriter, open_recording\n"
            f"w = RecordingWriter({str(tmp_path / 'rec')!r})\n"
            "w.add_stream('x', streamtype='analogsignal', dtype='float32', shape=(-1, 2),"
            " sample_rate=10.0)\n"
            "w.write('x', np.ones((5, 2), 'float32')); w.close()\n"
            f"assert len(open_recording({str(tmp_path / 'rec')!r})['x']) == 5\n"
            "try:\n    open_recording('memory://nothing')\n"
            "except ImportError as exc:\n    print(exc)\n")
    r = run_python(code, python=py, env=PLAIN_ENV, cwd=tmp_path, timeout=300)
    assert "pip install acqflow[storage]" in r.stdout
    r = _run([str(script), "lsl", "record", str(tmp_path / "out"), "--duration", "1"],
             cwd=tmp_path)
    assert r.returncode != 0
    assert "pip install acqflow[lsl]" in r.stderr and "Traceback" not in r.stderr
    r = _run([str(script), "rec", "info", "memory://x"], cwd=tmp_path)
    assert r.returncode != 0
    assert "pip install acqflow[storage]" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.timeout(300)
def test_demo_runs_without_extras(plain_venv, tmp_path):
    """The original failure: `acqflow demo` died on `No module named 'fsspec'`."""
    py, script = plain_venv
    r = _run([str(script), "demo", "--duration", "2", "--no-viewer", "--record",
              str(tmp_path / "demo")], cwd=tmp_path, timeout=180)
    assert r.returncode == 0, (r.stdout[-1000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    assert (tmp_path / "demo" / "manifest.json").exists()
