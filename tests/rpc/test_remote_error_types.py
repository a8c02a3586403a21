"""Remote exceptions re-raise as their own type (builtins and acqflow's), one line, with
the remote traceback on request; other types stay plain RemoteCallErrors."""
import os
import pickle
import subprocess
import sys
import traceback

import pytest

from acqflow.dataflow.errors import StreamError
from acqflow.manager import Manager
from acqflow.rpc import RemoteCallError
from acqflow.rpc.errors import remote_error

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def ro(child):
    return child.client._import("tests.rpc.remote_objects")


def test_a_remote_value_error_is_caught_as_value_error(ro):
    thing = ro.Thing()
    with pytest.raises(ValueError) as info:
        thing.fail("bad thing")
    err = info.value
    assert isinstance(err, RemoteCallError) and type(err).__name__ == "ValueError"
    assert str(err) == "bad thing (in process 'rpc-test-child')" and "\n" not in str(err)
    assert err.remote_type == "ValueError" and err.remote_message == "bad thing"
    assert "raise ValueError(message)" in err.remote_traceback
    printed = "".join(traceback.format_exception(err))
    assert "ValueError: bad thing (in process" in printed and "remote traceback" in printed
    with pytest.raises(ValueError) as again:
        thing.fail("other")
    assert type(again.value) is type(err)          # one class per remote type, cached
    with pytest.raises(AttributeError):
        thing.no_such_method()


def test_a_remote_acqflow_error_keeps_its_class():
    err = remote_error({"type": "StreamError", "module": "acqflow.dataflow.errors",
                        "message": "closed\nmore", "traceback": "tb", "where": "in node 'n'"})
    assert isinstance(err, StreamError) and isinstance(err, RemoteCallError)
    assert str(err) == "closed (in node 'n')"
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err) and back.remote_traceback == "tb"
    plain = pickle.loads(pickle.dumps(RemoteCallError("Custom", "m", "tb")))
    assert str(plain) == "Custom: m" and plain.remote_traceback == "tb"


@pytest.mark.parametrize("module, name", [
    ("os", "error"),                          # not on the allow-list
    ("tests.rpc.remote_objects", "Thing"),    # a module the peer names: never imported
    ("builtins", "KeyboardInterrupt"),        # not an Exception
    ("builtins", "print"),                    # not a class
    ("acqflow.rpc.errors", "RemoteCallError"),
    ("acqflow.no_such_module_errors", "X"),
    ("builtins", "a.b"),
])
def test_other_types_stay_plain_remote_call_errors(module, name):
    before = set(sys.modules)
    err = remote_error({"type": name, "module": module, "message": "m", "traceback": ""})
    assert type(err) is RemoteCallError and str(err) == f"{name}: m"
    assert "tests.rpc.remote_objects" not in set(sys.modules) - before


def test_an_exception_that_cannot_be_combined_stays_plain():
    err = remote_error({"type": "UnicodeDecodeError", "module": "builtins", "message": "m"})
    assert isinstance(err, RemoteCallError)
    err = remote_error({"type": "OSError", "module": "builtins", "message": "disk"})
    assert isinstance(err, OSError) and isinstance(err, RemoteCallError)


def test_node_errors_through_a_manager_name_the_node_and_group():
    with Manager() as manager:
        group = manager.create_nodegroup("g1")
        node = group.create_node("SyntheticSignal", "gen")
        with pytest.raises(ValueError) as info:
            node.configure(waveform="sinus")
    text = str(info.value)
    assert "\n" not in text and text.endswith("(in node 'gen' on group 'g1')"), text
    assert "sinus" in text and isinstance(info.value, RemoteCallError)


def test_debug_cli_shows_the_remote_traceback_only_with_debug(tmp_path):
    """Errors of remote calls print as one line; --debug adds the remote traceback."""
    script = tmp_path / "calls.py"
    script.write_text(
        "from acqflow.rpc import ProcessSpawner\n"
        "p = ProcessSpawner(name='g')\n"
        "try:\n"
        "    p.client._import('tests.rpc.remote_objects').Thing().fail('bad thing')\n"
        "finally:\n"
        "    p.stop()\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=60, cwd=root, env={**os.environ, "PYTHONPATH": root})
    assert "ValueError: bad thing (in process 'g')" in result.stderr, result.stderr
    assert "remote traceback" in result.stderr     # an uncaught one shows where it came from


def test_a_remote_import_error_is_a_module_not_found_error(child):
    with pytest.raises(ModuleNotFoundError):
        child.client._import("no_such_module_for_rpc")
