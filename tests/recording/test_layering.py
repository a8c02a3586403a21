"""Recorder/Player/CLI import no Qt, viewers, rpc or OpenCV when imported.

The static rules (no rpc, viewers, Qt, pickle) are import-linter contracts in pyproject.toml,
checked by tests/test_lint.py.
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_is_light():
    code = ("import sys, acqflow.nodes.recorder, acqflow.devices.player, acqflow.storage.cli; "
            "print([m for m in sys.modules if m.split('.')[0] in ('cv2', 'PyQt5', 'PyQt6') "
            "or m.startswith(('acqflow.viewers', 'acqflow.rpc'))])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"
