"""The version is set once, in pyproject.toml, and read from the package metadata."""
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import acqflow

ROOT = Path(__file__).resolve().parents[1]
DECLARED = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_version_comes_from_the_metadata_pyproject_sets():
    assert acqflow.__version__ == metadata.version("acqflow") == DECLARED
    assert "__version__ = " not in (ROOT / "acqflow" / "__init__.py").read_text()


def test_a_source_tree_never_installed_reads_its_pyproject(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)
    monkeypatch.setattr(metadata, "version", missing)
    assert acqflow._version() == DECLARED


def test_acqflow_version_prints_it():
    out = subprocess.run([sys.executable, "-m", "acqflow.cli", "--version"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == f"acqflow {DECLARED}", out.stderr
