"""What pyacq's own test files (tests/compat/pyacq_verbatim) need beyond the aliases, checked
one by one: node types in fresh groups, per-proxy ref ids, disconnect notices, image
streams, the .pth for processes acqflow did not start, pyqtgraph's old Qt names."""
import os
import sys

import numpy as np
import pytest

import acqflow.compat.pyacq as compat
from acqflow.testing import run_python, wait_for

compat.install()

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# -- node types -------------------------------------------------------------------------
def test_pyacq_node_type_table_is_every_subpackage_node_type():
    from pyacq import devices, dsp, rec, viewers
    from pyacq.core import nodelist
    tables = {"devices": devices, "dsp": dsp, "rec": rec, "viewers": viewers}
    want = {name: pkg for pkg, mod in tables.items() for name in mod.NODE_TYPES}
    assert nodelist.PYACQ_NODE_TYPES == want


def test_a_fresh_group_creates_pyacq_node_types_without_registering():
    """pyacq's most common program: the third line failed with KeyError before."""
    import pyacq
    man = pyacq.create_manager(auto_close_at_exit=False)
    try:
        ng = man.create_nodegroup()
        assert {"NumpyDeviceBuffer", "SosFilter", "RawRecorder", "QOscilloscope"} <= \
            set(ng.list_node_types())
        dev = ng.create_node('NumpyDeviceBuffer', name='dev')
        assert dev._type_str.endswith("NumpyDeviceBuffer'>")
        sos = ng.create_node('SosFilter')
        assert "compat.pyacq.dsp" in sos._type_str           # pyacq's, from acqflow.compat.pyacq
    finally:
        man.close()


# -- RPC: reference ids, disconnect notices ---------------------------------------------
def test_two_proxies_of_one_object_have_their_own_ref_id():
    import threading
    from pyacq.core.rpc import RPCClient, RPCServer
    server = RPCServer()
    server["obj"] = threading.Lock()
    thread = threading.Thread(target=server.run_forever, daemon=True)
    thread.start()
    client = RPCClient.get_client(server.address)
    try:
        a, b = client["obj"], client["obj"]
        assert a == b and a._obj_id == b._obj_id and a._ref_id != b._ref_id
        assert a.acquire._ref_id == a._ref_id                 # derived proxies keep it
        assert (threading.get_ident(), server.address) in RPCClient.clients_by_thread
    finally:
        client.close_server()
        thread.join(30)


def test_disconnected_at_once_when_another_client_closed_the_server():
    from pyacq.core.rpc import ProcessSpawner
    server_proc, client_proc = ProcessSpawner(), ProcessSpawner()
    try:
        cli = client_proc.client._import('pyacq.core.rpc').RPCClient(server_proc.client.address)
        cli.close_server()
        assert cli.disconnected() is True
        # never called: told anyway, by the server's goodbye (which may take a moment to arrive)
        wait_for(lambda: server_proc.client.disconnected() is True, 10, message="the server's goodbye")
        with pytest.raises(RuntimeError):
            server_proc.client.ping()
    finally:
        server_proc.kill()
        client_proc.stop()


def test_a_server_whose_closed_flag_is_set_from_outside_tells_its_clients():
    from pyacq.core.rpc import ProcessSpawner
    proc = ProcessSpawner()
    try:
        proc.client['self']._closed = 'sabotage!'
        wait_for(proc.client.disconnected, 30, message="no disconnect notice")
        assert proc.client._disconnect_reason.endswith("closed")     # the notice, not the exit
    finally:
        proc.kill()


def test_a_dead_server_process_is_a_timeout_error_too():
    from acqflow.rpc import RPCDisconnected
    from pyacq.core.rpc import ProcessSpawner
    proc = ProcessSpawner()
    proc.kill()
    with pytest.raises(TimeoutError) as err:
        proc.client.ping(timeout=1)
    assert isinstance(err.value, RPCDisconnected)


# -- streams ------------------------------------------------------------------------------
def test_image_chunks_are_frames_of_their_own_size():
    """pyacq's test_imageviewer: an 'analogsignal' of uint8 declared (720, 600, 3) carries
    images of 600 rows of 720 pixels, one per chunk, with a buffer position as index."""
    from pyacq.core import InputStream, OutputStream
    out = OutputStream(spec=dict(streamtype='analogsignal', shape=(720, 600, 3), dtype='uint8'))
    out.configure(protocol='tcp', interface='127.0.0.1', transfermode='plaindata')
    assert out.params['streamtype'] == 'video' and out.params['shape'] is None
    inp = InputStream()
    inp.connect(out)
    frames = np.random.randint(0, 255, size=(3, 600, 720, 3), dtype='uint8')
    for k in (0, 1, 0):                                   # the sender's position wraps
        out.send(frames[k], index=k)
    got = [inp.recv(timeout=10000, return_data=True) for _ in range(3)]
    assert [i for i, _ in got] == [1, 2, 3]
    assert all(np.array_equal(d, frames[k][None]) for (_, d), k in zip(got, (0, 1, 0)))
    out.close()
    inp.close()


def test_image_viewer_shows_each_image_at_its_size():
    import pyqtgraph as pg
    from pyacq.core import OutputStream
    from pyacq.viewers.imageviewer import ImageViewer
    app = pg.mkQApp()
    out = OutputStream(spec=dict(streamtype='analogsignal', shape=(720, 600, 3), dtype='uint8'))
    out.configure(protocol='tcp', interface='127.0.0.1', transfermode='plaindata')
    viewer = ImageViewer()
    viewer.configure()
    viewer.input.connect(out)
    viewer.initialize()
    viewer.show()
    viewer.start()
    frame = np.zeros((600, 720, 3), dtype='uint8')
    frame[:, :, 0] = 255
    frame[:100, :, 1] = 128
    try:
        def shown():
            out.send(frame, index=0)
            app.processEvents()
            image = viewer.images['video'].image
            return image is not None and image.shape == frame.shape
        wait_for(shown, 30, interval=0.05, message="the image was not drawn")
        assert np.array_equal(viewer.images['video'].image, frame)
    finally:
        viewer.stop()
        viewer.close()
        out.close()


def test_send_takes_pyacq_01_argument_order_and_sharedarray():
    from pyacq.core import InputStream, OutputStream
    out = OutputStream()
    out.configure(protocol='tcp', interface='127.0.0.1', transfermode='sharedarray',
                  streamtype='analogsignal', dtype='float32', shape=(4, -1), timeaxis=1,
                  sharedarray_shape=(4, 1000), ring_buffer_method='double')
    assert out.params['transfermode'] == 'sharedmem' and tuple(out.params['shape']) == (-1, 4)
    assert out.params['buffer_size'] == 1000
    inp = InputStream()
    inp.connect(out)
    data = np.arange(40, dtype='float32').reshape(10, 4)
    out.send(10, data)                                       # send(index, data)
    index, _ = inp.recv(timeout=10000)
    assert index == 10 and np.array_equal(inp[0:10], data)
    out.close()
    inp.close()


# -- processes acqflow did not start ------------------------------------------------------
def test_pth_makes_pyacq_importable_in_any_process_and_is_removed(tmp_path):
    site, path_dir = tmp_path / "site", tmp_path / "path"
    site.mkdir()
    path_dir.mkdir()
    (path_dir / "sitecustomize.py").write_text(f"import site\nsite.addsitedir({str(site)!r})\n")
    env = {"PYTHONPATH": os.pathsep.join([str(path_dir), ROOT]),
           "ACQFLOW_PYACQ_COMPAT": None, "ACQFLOW_CHILD_IMPORTS": None}
    probe = ("import sys; early = [m for m in sys.modules if m.startswith('acqflow.')]; "
             "import pyacq.core.stream.sharedarray as s; print(early, s.SharedArray.__module__)")
    cli = [sys.executable, "-m", "acqflow.cli", "compat"]
    import subprocess
    run = dict(capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT},
               timeout=120)
    assert "not installed" in subprocess.run(cli + ["status", "--site", str(site)], **run).stdout
    assert subprocess.run(cli + ["install-pyacq", "--site", str(site)], **run).returncode == 0
    out = run_python(probe, env=env, cwd=str(tmp_path)).stdout
    assert out.split() == ["[]", "acqflow.compat.pyacq.core.stream.sharedarray"]   # lazy
    assert "installed:" in subprocess.run(cli + ["status", "--site", str(site)], **run).stdout
    assert subprocess.run(cli + ["uninstall-pyacq", "--site", str(site)], **run).returncode == 0
    assert not (site / "acqflow-pyacq-compat.pth").exists()
    gone = run_python("import importlib.util as u; print(u.find_spec('pyacq'))", env=env,
                      cwd=str(tmp_path)).stdout
    assert gone.strip() == "None"


def test_install_pth_refuses_a_missing_directory(tmp_path):
    from acqflow.compat.pth import install_pth
    with pytest.raises(FileNotFoundError, match="no such directory"):
        install_pth(str(tmp_path / "nope"))


# -- pyqtgraph's old Qt names ---------------------------------------------------------------
def test_pyqtgraph_qtgui_has_the_widgets_and_qthread_a_terminated_signal():
    from pyqtgraph.Qt import QtCore, QtGui, QtWidgets
    assert QtGui.QLabel is QtWidgets.QLabel and QtGui.QApplication is QtWidgets.QApplication
    assert hasattr(QtCore.QThread, "terminated")
    import PyQt5.QtCore
    assert not hasattr(PyQt5.QtCore.QThread, "terminated")      # PyQt5 itself is untouched


# -- names pyacq's modules export ----------------------------------------------------------
def test_thread_spawner_serves_in_a_thread_of_this_process():
    from pyacq.core.rpc import ThreadSpawner
    th = ThreadSpawner(name="thread1")
    assert th.client._import('os').getpid() == os.getpid()
    with pytest.raises(Exception, match="xxxxx"):
        th.client._import('xxxxx')
    th.stop()
    assert not th.thread.is_alive()
    with pytest.raises(ValueError, match="qt=True"):
        ThreadSpawner(qt=True)


def test_log_exceptions_logs_then_calls_the_previous_hook(monkeypatch, caplog):
    from pyacq.core.rpc.log import log_exceptions
    seen = []
    monkeypatch.setattr(sys, "excepthook", lambda *exc: seen.append(exc[0]))
    import threading
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    log_exceptions()
    try:
        raise KeyError("boom")
    except KeyError:
        sys.excepthook(*sys.exc_info())
    assert seen == [KeyError] and "Unhandled exception" in caplog.text


def test_top_level_names_include_dsp_and_core_tools_chunk_resizer():
    import acqflow
    import pyacq
    import pyacq.core.tools as tools
    assert pyacq.SosFilter is pyacq.dsp.SosFilter
    assert tools.ChunkResizer is acqflow.ChunkResizer


def test_wavelets_in_the_fourier_domain_find_a_sine_and_its_amplitude():
    from pyacq.viewers.qtimefreq import generate_wavelet_fourier
    sr, n = 500., 2048
    wf = generate_wavelet_fourier(n, 1., 100., 2.5, sr, 2.5, 0)
    freqs = np.arange(1., 100., 2.5)
    assert wf.shape == (n, len(freqs))
    t = np.arange(n) / sr
    sig = 0.7 * np.sin(2 * np.pi * 41. * t)
    amplitude = np.abs(np.fft.ifft(np.fft.fft(sig)[:, None] * wf, axis=0))[n // 4:3 * n // 4]
    assert freqs[np.argmax(amplitude.mean(axis=0))] == 41.
    assert abs(amplitude[:, np.argmax(amplitude.mean(axis=0))].mean() - 0.7) < 0.05
    with pytest.raises(ValueError, match="no wavelet"):
        generate_wavelet_fourier(n, 10., 5., 1., sr, 2.5, 0)


def test_a_pyacq_output_carries_a_sample_time():
    """Processing nodes pass their input's sample time to ``send(..., time=)``: a node whose
    output is pyacq's OutputStream (compat) takes it too (it raised TypeError, and pyacq's
    test_overlapfiltfilt hung in its Qt loop)."""
    import numpy as np

    from acqflow.compat.pyacq.core.stream.stream import InputStream, OutputStream
    out = OutputStream()
    out.configure(protocol="inproc", dtype="float32", shape=(-1, 2), sample_rate=100.0)
    inp = InputStream()
    inp.connect(out)
    try:
        out.send(np.zeros((5, 2), "float32"), time=123.0)
        inp.recv(timeout=5000)
        assert inp.last_sample_time == 123.0
    finally:
        inp.close()
        out.close()
