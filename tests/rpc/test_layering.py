"""Package rules: exports, and a light import.

No pickle, no upward imports, Qt only in qtserver: the import-linter contracts in pyproject.toml
(tests/test_lint.py); module size: tests/test_docs.py.
"""
import acqflow.rpc
from acqflow.testing import loaded_after_import


def test_public_api():
    for name in ("RPCServer", "RPCClient", "ObjectProxy", "RemoteCallError", "ProcessSpawner",
                 "QtRPCServer", "MsgpackSerializer", "JsonSerializer", "Future"):
        assert name in acqflow.rpc.__all__


def test_import_is_light():
    assert loaded_after_import("acqflow.rpc", ["PyQt5", "pyqtgraph", "acqflow.nodes", "acqflow.viewers",
                                               "acqflow.devices", "acqflow.storage"]) == []
