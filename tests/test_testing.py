"""acqflow.testing's helpers: run_python and loaded_after_import (which every import probe of the
suite uses: "importing acqflow.rpc loads no Qt", missing extras...), wait_qt, and the rule that
the suite takes its helpers from acqflow.testing alone."""
import ast
import os
from pathlib import Path

import pytest

from acqflow import testing
from acqflow.testing import loaded_after_import, run_python

TESTS = Path(__file__).resolve().parent
HELPERS = set(testing.__all__)


def test_loaded_after_import_sees_what_an_import_loads_and_nothing_of_its_own():
    assert loaded_after_import("json", ["json", "xml", "jsonx"]) == \
        ["json", "json.decoder", "json.encoder", "json.scanner"]
    assert loaded_after_import([], ["json", "ast"]) == []          # the probe imports nothing itself
    assert "acqflow.dataflow" in loaded_after_import("acqflow", ["acqflow.dataflow"])


def test_blocked_modules_cannot_be_imported_and_do_not_count_as_loaded():
    out = run_python("try:\n    import json\nexcept ImportError as exc:\n    print(type(exc).__name__)\n",
                     block=["json"])
    assert out.stdout.strip() == "ModuleNotFoundError"
    assert loaded_after_import("os", ["json"], block=["json"]) == []


def test_the_child_imports_this_acqflow_and_gets_the_environment_asked_for(monkeypatch):
    import acqflow
    monkeypatch.setenv("ACQFLOW_TEST_GONE", "1")
    code = "import acqflow, os, sys; print(acqflow.__file__, os.environ.get('ACQFLOW_TEST_GONE'), *sys.argv[1:])"
    out = run_python(code, "a", "b", env={"ACQFLOW_TEST_GONE": None, "PYTHONPATH": os.devnull}, cwd="/")
    assert out.stdout.split() == [acqflow.__file__, "None", "a", "b"]


def test_a_failing_child_fails_the_test_with_its_stderr():
    with pytest.raises(pytest.fail.Exception, match=r"(?s)exited with 3.*the reason"):
        run_python("import sys; sys.stderr.write('the reason'); sys.exit(3)")
    assert run_python("raise SystemExit(3)", check=False).returncode == 3


def test_wait_qt_runs_the_qt_loop_until_the_condition_and_fails_after_the_timeout():
    pytest.importorskip("PyQt5")
    from PyQt5 import QtCore

    from acqflow.viewers import get_app
    get_app()
    fired = []
    QtCore.QTimer.singleShot(10, lambda: fired.append(1))   # fires only while the Qt loop runs
    testing.wait_qt(lambda: fired, timeout=30)
    with pytest.raises(pytest.fail.Exception, match="timed out after 0.05 s waiting for the moon"):
        testing.wait_qt(lambda: False, timeout=0.05, message="the moon")


def _test_modules():
    for path in sorted(TESTS.rglob("*.py")):
        if "pyacq_verbatim" in path.parts or "pyacq_core" in path.parts:
            continue        # pyacq's own tests, kept as pyacq wrote them
        yield path, ast.parse(path.read_text(), str(path))


def test_the_suite_takes_its_helpers_from_acqflow_testing_alone():
    """No conftest hands out helpers (conftests hold fixtures), and no test module defines its own
    copy of one: a helper lives once, in acqflow.testing, where users' tests find it too."""
    bad = []
    for path, tree in _test_modules():
        rel = path.relative_to(TESTS.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "conftest":
                bad += [f"{rel}:{node.lineno} imports {a.name} from a conftest"
                        for a in node.names if a.name in HELPERS]
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in HELPERS:
                bad.append(f"{rel}:{node.lineno} defines its own {node.name}")
    assert not bad, "import these from acqflow.testing instead:\n" + "\n".join(bad)


def _functions(path: Path) -> set[str]:
    return {n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)}


def test_every_marker_table_entry_names_a_test_that_exists():
    """tests/markers.py names tests by path and function: a renamed or removed test must leave
    the tables too (else a slow test would silently join `./run test --quick`)."""
    from tests.markers import ALL, SLOW, XDIST_GROUPS
    stale = []
    for rel, names in SLOW.items():
        path = TESTS / rel
        if not path.is_file():
            stale.append(rel)
        elif names is not ALL:
            stale += [f"{rel}::{n}" for n in names if n not in _functions(path)]
    for key in XDIST_GROUPS:
        rel, _, name = key.partition("::")
        path = TESTS / rel
        if not (path.is_dir() if rel.endswith("/") else path.is_file()) or (name and name not in _functions(path)):
            stale.append(key)
    assert not stale, f"not in the suite any more: {stale}"


def test_read_node_gives_inputs_on_the_named_outputs_of_an_initialized_node():
    from acqflow.devices import SyntheticSignal
    node = SyntheticSignal(name="sig")
    signals, = testing.read_node(node, ["signals"], channels=3, sample_rate=1000.0, chunksize=10)
    assert node.state == "initialized" and node.outputs["signals"].params["protocol"] == "inproc"
    node.start()
    try:
        index, data = signals.recv(timeout=5000)
    finally:
        node.close()
    assert (index, data.shape) == (10, (10, 3))
