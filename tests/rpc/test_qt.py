"""QtRPCServer: requests run in the Qt GUI thread (a remote client makes and shows widgets)."""
import subprocess
import sys
import textwrap

import pytest

from acqflow.rpc import ProcessSpawner, RPCServer

pytestmark = pytest.mark.timeout(90)


def test_importing_rpc_does_not_import_qt():
    code = "import sys, acqflow.rpc; print('PyQt5' in sys.modules, 'acqflow.rpc.qtserver' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_qt_child_runs_requests_in_gui_thread():
    with ProcessSpawner(name="qt-child", qt=True) as p:
        qs = p.client._import("acqflow.rpc.qtserver")
        assert qs.in_gui_thread() is True
        widgets = p.client._import("PyQt5.QtWidgets")
        label = widgets.QLabel("hello")
        label.show()
        assert label.isVisible() is True
        assert label.text() == "hello"
        label.setText("changed")
        assert label.text() == "changed"
        assert p.client._import("threading").current_thread().name._get_value() == "MainThread"
        # the GUI thread calls back into this process while we wait (re-entrant)
        server = RPCServer()
        server.run_lazy()
        try:
            thing = p.client._import("tests.rpc.remote_objects").Thing()
            assert thing.call_back(lambda x: x * 2, 21) == 42
        finally:
            server.close()
        label.close()
    assert p.exit_code == 0


LOCAL = textwrap.dedent("""
    import threading
    from PyQt5 import QtWidgets
    from acqflow.rpc import QtRPCServer, RPCClient
    from acqflow.rpc.qtserver import in_gui_thread
    app = QtWidgets.QApplication([])
    server = QtRPCServer()
    server["probe"] = in_gui_thread
    results = []

    def worker():
        # another thread is a different client; its requests run in the GUI thread
        c = RPCClient(server.address)
        results.append(c.call("probe"))
        c.close_server()
        c.close()

    t = threading.Thread(target=worker)
    t.start()
    server.run_forever()
    t.join()
    print(results)
""")


def test_local_qt_server_serves_other_thread_in_gui_thread():
    out = subprocess.run([sys.executable, "-c", LOCAL], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[True]"
