"""Package rules: no pickle, no upward imports, Qt only in qtserver, small modules, exports."""
import ast
import pathlib
import subprocess
import sys

import acqflow.rpc

RPC = pathlib.Path(acqflow.rpc.__file__).parent
FORBIDDEN = ("acqflow.nodes", "acqflow.devices", "acqflow.viewers", "acqflow.storage", "pickle",
             "cPickle", "dill", "cloudpickle")


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield ("." * node.level) + node.module


def test_no_forbidden_imports_and_qt_only_in_qtserver():
    for path in RPC.glob("*.py"):
        names = list(_imports(path))
        for name in names:
            assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
            if name.startswith(("PyQt5", "PyQt6", "PySide", "pyqtgraph")):
                assert path.name in ("qtserver.py", "bootstrap.py"), f"{path.name} imports {name}"


def test_modules_are_small():
    for path in RPC.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 500, path.name


def test_public_api():
    for name in ("RPCServer", "RPCClient", "ObjectProxy", "RemoteCallError", "ProcessSpawner",
                 "QtRPCServer", "MsgpackSerializer", "JsonSerializer", "Future"):
        assert name in acqflow.rpc.__all__


def test_import_is_light():
    code = ("import sys, acqflow.rpc; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('PyQt5', 'pyqtgraph') or m.startswith(('acqflow.nodes', 'acqflow.viewers', "
            "'acqflow.devices', 'acqflow.storage'))]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
