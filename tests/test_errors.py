"""One root: every exception class acqflow defines derives from ``acqflow.Error``.

The walk imports every module of the package in a fresh interpreter (importing compat or the
Qt viewers changes process-wide state), skipping only modules whose optional dependency is
missing, and lists the exception classes defined there that ``except acqflow.Error`` misses.
"""
from __future__ import annotations

import json
import pickle

import pytest

import acqflow
from acqflow.rpc.errors import remote_error
from acqflow.testing import run_python

WALK = r"""
import importlib, inspect, json, pkgutil, sys
import acqflow

skipped, modules, outside = {}, [], []
for info in pkgutil.walk_packages(acqflow.__path__, "acqflow."):
    if info.name.endswith(".__main__"):      # `python -m` entry points run when imported
        continue
    try:
        mod = importlib.import_module(info.name)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        if missing == "acqflow" or missing.startswith("acqflow."):
            raise
        skipped[info.name] = f"{type(exc).__name__}: {exc}"
        continue
    modules.append(info.name)
    for name, obj in vars(mod).items():
        if (inspect.isclass(obj) and issubclass(obj, BaseException)
                and obj.__module__ == info.name and not issubclass(obj, acqflow.Error)):
            outside.append(f"{info.name}.{obj.__qualname__}")
print(json.dumps({"skipped": skipped, "modules": modules, "outside": sorted(set(outside))}))
"""


def test_every_exception_acqflow_defines_derives_from_acqflow_error():
    out = run_python(WALK, env={"QT_QPA_PLATFORM": "offscreen"}, timeout=300)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    for module, reason in found["skipped"].items():     # optional dependencies only
        print(f"skipped {module}: {reason}")
    assert len(found["modules"]) > 100, found["modules"]
    for module in ("acqflow.storage.errors", "acqflow.dataflow.graph.graphspec", "acqflow.web.controls"):
        assert module in found["modules"], (module, found["skipped"].get(module))
    assert found["outside"] == [], f"not deriving from acqflow.Error: {found['outside']}"


def test_builtin_bases_are_kept():
    from acqflow.dataflow.graph.graphspec import GraphError
    from acqflow.dataflow.streams.spec import DtypeError
    from acqflow.manager.build import GraphBuildError
    from acqflow.rpc import RPCDisconnected, SerializationError
    from acqflow.storage.errors import NotARecordingError, StorageError
    from acqflow.storage.format import BlockFormatError
    assert issubclass(GraphError, ValueError) and issubclass(GraphBuildError, RuntimeError)
    assert issubclass(DtypeError, TypeError) and issubclass(DtypeError, ValueError)
    assert issubclass(NotARecordingError, FileNotFoundError) and issubclass(BlockFormatError, ValueError)
    assert issubclass(RPCDisconnected, ConnectionError) and issubclass(SerializationError, TypeError)
    with pytest.raises(acqflow.Error):
        raise StorageError("caught by the root")


@pytest.mark.parametrize("module, name", [("acqflow.storage.errors", "GapError"),
                                          ("acqflow.dataflow.graph.graphspec", "GraphError"),
                                          ("acqflow.dataflow.streams.cpulatency", "CpuLatencyError")])
def test_a_remote_acqflow_error_keeps_its_class_and_round_trips(module, name):
    """An error reply names the remote class: it arrives as that class, an acqflow.Error and a
    RemoteCallError, and pickles back to the same (as a process pool hands it on)."""
    __import__(module)
    exc = remote_error({"type": name, "module": module, "message": "bad value 3",
                        "traceback": "Traceback ...", "where": "in node 'n'"})
    assert type(exc).__name__ == name and isinstance(exc, acqflow.Error)
    assert isinstance(exc, acqflow.rpc.RemoteCallError)
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is type(exc) and str(again) == str(exc) == "bad value 3 (in node 'n')"


def test_first_line_is_one_bounded_line_of_any_error():
    """The one-line report of `acqflow run`, its final summary and the web monitor's refusals."""
    from acqflow.errors import first_line
    remote = RuntimeError("\n  node 'f' is not running\nTraceback (most recent call last):\n  ...\n")
    assert first_line(remote) == "node 'f' is not running"
    assert first_line(ValueError("x" * 1000)) == "x" * 300
    assert first_line(ValueError("x" * 1000), limit=10) == "x" * 10
    assert first_line(KeyError()) == "KeyError"
    assert first_line(OSError("   \n ")) == "OSError"
