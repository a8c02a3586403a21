"""Fixtures for the rpc tests: offscreen Qt, a shared child process, a threaded server."""
import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if "XDG_RUNTIME_DIR" not in os.environ:      # keeps Qt children quiet about it
    _runtime = f"/tmp/acqflow-runtime-{os.getuid()}"
    os.makedirs(_runtime, mode=0o700, exist_ok=True)
    os.environ["XDG_RUNTIME_DIR"] = _runtime

import pytest  # noqa: E402

from acqflow.rpc import ProcessSpawner, RPCServer  # noqa: E402


@pytest.fixture(scope="module")
def child():
    """A child process running an RPC server, shared by the tests of a module."""
    proc = ProcessSpawner(name="rpc-test-child")
    yield proc
    proc.stop()


@pytest.fixture
def thread_server():
    """An RPCServer running forever in a background thread of this process."""
    server = RPCServer()
    thread = threading.Thread(target=server.run_forever, daemon=True)
    thread.start()
    yield server
    server.close()
    thread.join(10)
    assert not thread.is_alive()
