"""House tooling run by `./run test`: ruff (lint) and import-linter (the layer contracts).

Both read their configuration from pyproject.toml ([tool.ruff], [tool.importlinter]);
docs/extending.md ("House tooling") says what they check and how to run them by hand.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(args: list[str], cwd: Path = ROOT, env_path: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(env_path))
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_ruff_is_clean():
    out = _run([sys.executable, "-m", "ruff", "check", "--no-cache", "acqflow", "tests"])
    assert out.returncode == 0, out.stdout + out.stderr


def test_import_contracts_are_kept():
    out = _run([str(BIN / "lint-imports"), "--no-cache"])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_import_linter_sees_imports_inside_functions(tmp_path):
    """The contracts count imports inside functions and under TYPE_CHECKING, as the house does:
    an upward import under TYPE_CHECKING, a forbidden one and a circle closed inside a function."""
    pkg = tmp_path / "layered"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text(textwrap.dedent("""
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from . import high
        def late():
            import pickle
            return pickle
    """))
    (pkg / "high.py").write_text("from . import low\n")
    (pkg / "a.py").write_text("def f():\n    from . import b\n")
    (pkg / "b.py").write_text("from . import a\n")
    (tmp_path / ".importlinter").write_text(textwrap.dedent("""
        [importlinter]
        root_package = layered
        include_external_packages = True
        [importlinter:contract:layers]
        name = layers
        type = layers
        layers =
            layered.high
            layered.low
        [importlinter:contract:nopickle]
        name = no pickle
        type = forbidden
        source_modules = layered
        forbidden_modules = pickle
        [importlinter:contract:circles]
        name = no circles
        type = acyclic_siblings
        ancestors = layered
    """))
    out = _run([str(BIN / "lint-imports"), "--no-cache"], cwd=tmp_path, env_path=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "layered.low -> layered.high" in out.stdout and "layered.low -> pickle" in out.stdout, out.stdout
    assert "No cycles are allowed in layered." in out.stdout, out.stdout
