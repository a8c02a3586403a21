"""Benchmarks live apart: nothing in the working packages imports acqflow.bench, the
soak's node types register only when the soak (or a test) asks for them, small modules;
acqflow.testing imports without pytest and Qt."""
import ast
from pathlib import Path

import pytest

import acqflow
from acqflow.testing import WaitTimeout, run_python, wait_for

PKG = Path(acqflow.__file__).parent


def _imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (inside functions too)."""
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = parts[:len(parts) - node.level] if node.level else ()
            mod = ".".join(base + ((node.module,) if node.module else ()))
            names.add(mod)
            names |= {f"{mod}.{a.name}" for a in node.names}
    return names


def test_no_working_package_imports_the_benchmarks():
    for path in PKG.rglob("*.py"):
        if path.parent.name == "bench" and path.parent.parent == PKG:
            continue
        bad = {n for n in _imports(path) if n == "acqflow.bench" or n.startswith("acqflow.bench.")}
        assert not bad, f"{path.relative_to(PKG)} imports {bad}"


def test_soak_node_types_register_only_when_asked():
    code = ("import acqflow.bench.soak, acqflow.bench; from acqflow.dataflow.registry import _types, "
            "get_node_type; assert 'SoakSource' not in _types; "
            "assert [get_node_type(n).__module__ for n in ('SoakSource', 'SoakRelay', 'SoakSink')] "
            "== ['acqflow.bench.soaknodes'] * 3")
    run_python(code)


def test_testing_imports_without_pytest_and_qt_and_raises_a_clear_timeout():
    code = ("import sys\n"
            "from acqflow.testing import wait_for, WaitTimeout\n"
            "try:\n    wait_for(lambda: False, timeout=0.05, message='the moon')\n"
            "except AssertionError as exc:\n    assert isinstance(exc, TimeoutError) and 'the moon' in str(exc)\n"
            "else:\n    raise SystemExit('no error')\n"
            "assert wait_for(lambda: 7) == 7\n"
            "assert not [m for m in sys.modules if m.startswith(('pyqtgraph', 'acqflow.viewers'))]")
    run_python(code, block=["pytest", "PyQt5"])


def test_wait_for_fails_the_test_under_pytest():
    with pytest.raises(pytest.fail.Exception, match="timed out after 0.05 s waiting for the moon"):
        wait_for(lambda: False, timeout=0.05, message="the moon")
    assert issubclass(WaitTimeout, AssertionError) and issubclass(WaitTimeout, TimeoutError)

