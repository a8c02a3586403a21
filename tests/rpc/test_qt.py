"""QtRPCServer: requests run in the Qt GUI thread (a remote client makes and shows widgets)."""
import subprocess
import sys
import textwrap

import pytest

from acqflow.rpc import ProcessSpawner, RPCServer
from acqflow.testing import loaded_after_import

pytestmark = pytest.mark.timeout(90)


def test_importing_rpc_does_not_import_qt():
    assert loaded_after_import("acqflow.rpc", ["PyQt5", "acqflow.rpc.qtserver"]) == []


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
        c = RPCClient.get_client(server.address)
        results.append(c.call("probe"))
        c.close_server()
        c.close()

    t = threading.Thread(target=worker)
    t.start()
    server.run_forever()     # returns at once, as pyacq's: the Qt event loop serves
    app.exec_()              # until close_server() quits it (quit_on_close=True)
    t.join()
    print(results)
""")


def test_local_qt_server_serves_other_thread_in_gui_thread():
    out = subprocess.run([sys.executable, "-c", LOCAL], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[True]"


WORKER_THREAD = textwrap.dedent("""
    import json, threading
    from PyQt5 import QtWidgets
    from acqflow.rpc import ObjectProxy, QtRPCServer, RPCClient

    class Probe:
        def ident(self):
            return threading.get_ident()

    app = QtWidgets.QApplication([])
    server = QtRPCServer()
    server["probe"] = Probe()
    results = {"gui": threading.get_ident()}

    def worker():
        results["worker"] = threading.get_ident()
        c = RPCClient.get_client(server.address)
        probe = c["probe"]                  # a proxy here, although the object is local
        results["is_proxy"] = isinstance(probe, ObjectProxy)
        results["call"] = probe.ident()
        qs = c._import("acqflow.rpc.qtserver")
        results["module_is_proxy"] = isinstance(qs, ObjectProxy)
        results["in_gui"] = qs.in_gui_thread()
        label = c._import("PyQt5.QtWidgets").QLabel("made from a worker")
        results["label_is_proxy"] = isinstance(label, ObjectProxy)
        results["label_ident"] = c._import("threading").get_ident()
        results["text"] = label.text()
        c.close_server()
        c.close()

    t = threading.Thread(target=worker)
    t.start()
    server.run_forever()
    app.exec_()
    t.join()
    print(json.dumps(results))
""")


def test_worker_thread_call_runs_in_gui_thread():
    """Issue 12: a worker thread of the server's own process gets proxies, not the objects,
    and its calls run in the GUI thread (they ran in the worker before)."""
    import json
    out = subprocess.run([sys.executable, "-c", WORKER_THREAD], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["worker"] != r["gui"]
    assert r["is_proxy"] and r["module_is_proxy"] and r["label_is_proxy"]
    assert r["call"] == r["gui"] and r["label_ident"] == r["gui"]
    assert r["in_gui"] is True and r["text"] == "made from a worker"


QUIT_ON_CLOSE = textwrap.dedent("""
    import sys
    from PyQt5 import QtCore, QtWidgets
    from acqflow.rpc import QtRPCServer
    app = QtWidgets.QApplication([])
    server = QtRPCServer(quit_on_close=sys.argv[1] == "1")
    server.run_forever()
    QtCore.QTimer.singleShot(0, server.close)
    # without quit_on_close the loop goes on after the close: this timer ends it
    QtCore.QTimer.singleShot(0, lambda: QtCore.QTimer.singleShot(0, lambda: print("loop ran on")))
    QtCore.QTimer.singleShot(0, lambda: QtCore.QTimer.singleShot(0, app.quit))
    app.exec_()
    print("closed" if server.closed else "open")
""")


@pytest.mark.parametrize("quit_on_close", [True, False])
def test_quit_on_close(quit_on_close):
    out = subprocess.run([sys.executable, "-c", QUIT_ON_CLOSE, str(int(quit_on_close))],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1] == "closed"
    assert ("loop ran on" in lines) is (not quit_on_close)
