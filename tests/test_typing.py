"""Static checks run by the test suite: mypy over the whole package (its settings, strictest
for dataflow, rpc, storage and manager, are in pyproject.toml) and ruff, so that the
``py.typed`` acqflow ships is honest."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))


@pytest.mark.timeout(600)
def test_mypy_is_clean(tmp_path_factory: pytest.TempPathFactory) -> None:
    # the cache outside the tree, kept between runs: a cold run takes ~20 s of CPU, a warm one ~2 s
    cache = tmp_path_factory.getbasetemp().parent / "mypy-cache"
    res = _run(_tool("mypy") + ["--cache-dir", str(cache), "acqflow"])
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


def test_ruff_is_clean() -> None:
    res = _run(_tool("ruff") + ["check", "acqflow"])
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
