"""acqflow.testing's fresh-interpreter helpers: run_python and loaded_after_import, which every
import probe of the suite uses ("importing acqflow.rpc loads no Qt", missing extras...)."""
import os

import pytest

from acqflow.testing import loaded_after_import, run_python


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
