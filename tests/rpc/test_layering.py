"""Package rules: exports, and a light import.

No pickle, no upward imports, Qt only in qtserver: the import-linter contracts in pyproject.toml
(tests/test_lint.py); module size: tests/test_docs.py.
"""
import subprocess
import sys

import acqflow.rpc

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
