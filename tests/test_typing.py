"""Static checks run by the test suite: mypy over the whole package (its settings, strictest
for dataflow, rpc, storage and manager, are in pyproject.toml) and ruff, so that the
``py.typed`` acqflow ships is honest."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> list[str]:
    """The command running ``name`` from this interpreter's environment, or skip."""
    exe = Path(sys.executable).parent / name
    if exe.exists():
        return [str(exe)]
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install acqflow[dev])")
    return [found]


def _cache(name: str) -> str:
    """A mypy cache kept between runs, outside the tree (one per check: they may run at once):
    a cold run takes ~20 s of CPU, a warm one under 1 s."""
    return str(Path(tempfile.gettempdir()) / f"acqflow-mypy-{os.getuid()}" / name)


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))


@pytest.mark.timeout(600)
def test_mypy_is_clean() -> None:
    res = _run(_tool("mypy") + ["--cache-dir", _cache("package"), "acqflow"])
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


def test_ruff_is_clean() -> None:
    res = _run(_tool("ruff") + ["check", "acqflow"])
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


_USER_CODE = '''
from typing import assert_type

import numpy as np

from acqflow import InputStream, OutputStream, RingBuffer


def use(inp: InputStream, out: OutputStream, ring: RingBuffer) -> None:
    out.send(np.zeros((4, 2), "float32"), index=4)
    index, data = inp.recv(timeout=100, return_data=True)
    assert_type(index, int)
    assert_type(data, np.ndarray)                   # return_data=True: never None
    assert_type(inp.recv(100)[1], np.ndarray | None)
    assert_type(inp.get_data(0, 10), np.ndarray)
    assert_type(ring.get_data(0, 10, join=False), tuple[np.ndarray, np.ndarray])
'''


@pytest.mark.timeout(600)
def test_users_code_sees_the_stream_types(tmp_path: Path) -> None:
    """What mypy tells code using acqflow (py.typed): the data of recv(return_data=True) is an
    array, get_data() one array or (join=False) two."""
    user = tmp_path / "user_code.py"
    user.write_text(_USER_CODE)
    res = _run(_tool("mypy") + ["--cache-dir", _cache("user"), "--follow-imports=silent", str(user)])
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
