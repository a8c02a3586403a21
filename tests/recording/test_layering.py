"""Recorder/Player/CLI import no Qt, viewers, rpc or OpenCV when imported.

The static rules (no rpc, viewers, Qt, pickle) are import-linter contracts in pyproject.toml,
checked by tests/test_lint.py.
"""
from acqflow.testing import loaded_after_import


def test_import_is_light():
    assert loaded_after_import(["acqflow.nodes.recorder", "acqflow.devices.player", "acqflow.commands.rec"],
                               ["cv2", "PyQt5", "PyQt6", "acqflow.viewers", "acqflow.rpc"]) == []
