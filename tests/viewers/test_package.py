"""Package rules: Qt stays under acqflow.viewers, node types registered, small modules."""
import ast
import os

import acqflow
import acqflow.viewers
from acqflow.testing import loaded_after_import

VIEWERS_DIR = os.path.dirname(acqflow.viewers.__file__)
TYPES = {"Oscilloscope": "oscilloscope", "DigitalOscilloscope": "digital",
         "TimeFrequencyViewer": "timefreq", "ImageViewer": "image", "EpochViewer": "epochs",
         "EventRaster": "events"}


def test_import_acqflow_never_imports_qt():
    assert loaded_after_import(["acqflow", "acqflow.dataflow", "acqflow.nodes", "acqflow.devices",
                                "acqflow.manager"], ["PyQt5", "pyqtgraph", "acqflow.viewers"]) == []


def test_viewer_types_are_registered_nodes_with_docs():
    types = acqflow.node_types()
    for name, module in TYPES.items():
        cls = types[name]
        assert cls.__module__ == f"acqflow.viewers.{module}"
        assert issubclass(cls, acqflow.Node) and cls.__doc__.strip()
        assert getattr(acqflow.viewers, name) is cls


def test_modules_are_small_and_import_only_downward():
    for fname in sorted(os.listdir(VIEWERS_DIR)):
        if not fname.endswith(".py"):
            continue
        src = open(os.path.join(VIEWERS_DIR, fname)).read()
        assert len(src.splitlines()) <= 500, f"{fname} is over 500 lines"
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                assert (node.module or "").split(".")[0] in ("dataflow", "rpc"), \
                    f"{fname} imports ..{node.module}"
