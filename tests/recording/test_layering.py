"""Recorder/Player/CLI layering: no Qt, viewers, rpc, pickle; cv2 only via the storage codec."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILES = ["acqflow/nodes/recorder.py", "acqflow/devices/player.py", "acqflow/storage/cli.py"]
BANNED = ("acqflow.rpc", "acqflow.viewers", "PyQt5", "PyQt6", "PySide", "pyqtgraph", "pickle",
          "cv2", "..rpc", "..viewers")


def test_imports_and_size():
    for rel in FILES:
        src = (ROOT / rel).read_text()
        assert len(src.splitlines()) <= 500, rel
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = ["." * node.level + (node.module or "")]
            else:
                continue
            assert not any(n.startswith(BANNED) for n in names), (rel, names)
    code = ("import sys, acqflow.nodes.recorder, acqflow.devices.player, acqflow.storage.cli; "
            "print([m for m in sys.modules if m.split('.')[0] in ('cv2', 'PyQt5', 'PyQt6') "
            "or m.startswith(('acqflow.viewers', 'acqflow.rpc'))])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"
