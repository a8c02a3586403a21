"""pyacq.core.tools: ThreadPollInput's pyacq semantics (acqflow.dataflow.threadpoll with the
Qt dispatch of acqflow.compat.pyacq.qtdispatch), ThreadPollOutput, StreamConverter, ChannelSplitter."""
import threading

import numpy as np
import pytest

from acqflow.dataflow import InputStream, OutputStream, threadpoll

pytest.importorskip("PyQt5")
from pyqtgraph.Qt import QtCore  # noqa: E402

from acqflow.viewers.base import get_app  # noqa: E402


def _stream():
    out = OutputStream()
    out.configure(dtype="float32", shape=(-1, 2))
    inp = InputStream()
    inp.connect(out)
    return out, inp


def _chunk(n=4):
    return np.zeros((n, 2), "float32")


def _run_loop(app, until, timeout_ms=20000):
    """Run app.exec_() until ``until()`` holds (checked every 10 ms) or the timeout."""
    check = QtCore.QTimer()
    check.timeout.connect(lambda: until() and app.quit())
    check.start(10)
    # a timer object, stopped after: a pending singleShot(app.quit) outlived the test and quit
    # whatever event loop ran 20 s later (another test's)
    give_up = QtCore.QTimer(singleShot=True)
    give_up.timeout.connect(app.quit)
    give_up.start(timeout_ms)
    app.exec_()
    check.stop()
    give_up.stop()


def test_acqflows_thread_poll_input_calls_back_in_its_own_thread_with_compat_imported():
    """Importing pyacq's tools changes no acqflow ThreadPollInput: with a Qt loop running,
    its ``new_data`` still runs in the polling thread (only pyacq's goes to the loop)."""
    import pyacq.core.tools  # noqa: F401
    app = get_app()
    out, inp = _stream()
    poller = threadpoll.ThreadPollInput(inp)
    threads = []
    poller.new_data.connect(lambda pos, data: threads.append(threading.get_ident()))
    poller.start()
    QtCore.QTimer.singleShot(0, lambda: threading.Thread(
        target=lambda: [out.send(_chunk()) for _ in range(3)]).start())
    _run_loop(app, lambda: len(threads) == 3)
    poller.stop()
    poller.join(10)
    assert threads == [poller.ident] * 3
    inp.close()
    out.close()


def test_new_data_runs_in_the_running_qt_loop_thread():
    from pyacq.core.tools import ThreadPollInput
    app = get_app()
    out, inp = _stream()
    poller = ThreadPollInput(inp)
    threads, positions = [], []
    poller.new_data.connect(lambda pos, data: (threads.append(threading.get_ident()),
                                               positions.append(pos)))
    poller.start()
    QtCore.QTimer.singleShot(0, lambda: threading.Thread(
        target=lambda: [out.send(_chunk()) for _ in range(5)]).start())
    _run_loop(app, lambda: len(positions) == 5)
    poller.stop()
    assert poller.wait(10000)
    assert positions == [4, 8, 12, 16, 20] and poller.pos() == 20
    assert set(threads) == {threading.get_ident()}      # the GUI thread, not the poller's
    inp.close()
    out.close()


def test_new_data_runs_in_the_poller_thread_without_a_running_loop():
    from pyacq.core.tools import ThreadPollInput
    get_app()                       # an application exists, but its loop does not run
    out, inp = _stream()
    poller = ThreadPollInput(inp)
    got = []
    done = threading.Event()
    poller.new_data.connect(lambda pos, data: (got.append(threading.get_ident()), done.set()))
    poller.start()
    out.send(_chunk())
    assert done.wait(10)
    assert got == [poller.ident]
    poller.stop()
    assert poller.wait()
    inp.close()
    out.close()


def test_wait_times_out_in_ms_and_is_true_once_ended():
    from pyacq.core.tools import ThreadPollInput
    out, inp = _stream()
    poller = ThreadPollInput(inp, timeout=20)
    assert poller.wait(10)                  # never started: nothing to wait for
    poller.start()
    assert not poller.wait(50)              # still polling
    poller.stop()
    assert poller.wait(10000) and not poller.is_alive()
    inp.close()
    out.close()


def test_callback_error_in_the_qt_loop_reaches_sys_excepthook(excepthook_failures):
    from pyacq.core.tools import ThreadPollInput
    app = get_app()
    out, inp = _stream()
    poller = ThreadPollInput(inp)
    poller.new_data.connect(lambda pos, data: 1 / 0)
    poller.start()
    QtCore.QTimer.singleShot(0, lambda: out.send(_chunk()))
    _run_loop(app, lambda: bool(excepthook_failures))
    assert [e[0] for e in excepthook_failures] == [ZeroDivisionError]
    excepthook_failures.clear()             # seen: do not fail this test for it
    assert isinstance(poller.error, ZeroDivisionError)
    assert poller.wait(10000)               # the poller stopped on it
    inp.close()
    out.close()


@pytest.mark.parametrize("with_on_error", [False, True])
def test_callback_error_in_the_thread_reaches_on_error_or_threading_excepthook(monkeypatch,
                                                                                 with_on_error):
    from pyacq.core.tools import ThreadPollInput
    seen, messages = [], []
    monkeypatch.setattr(threading, "excepthook", seen.append)
    out, inp = _stream()
    poller = ThreadPollInput(inp)
    if with_on_error:
        poller.on_error = messages.append
    poller.new_data.connect(lambda pos, data: {}["missing"])
    poller.start()
    out.send(_chunk())
    assert poller.wait(10000) and isinstance(poller.error, KeyError)
    if with_on_error:
        assert messages[0].startswith("KeyError") and seen == []
    else:
        assert [a.exc_type for a in seen] == [KeyError] and messages == []
    inp.close()
    out.close()


def test_thread_poll_output_watches_an_output():
    from pyacq.core.tools import ThreadPollOutput
    out = OutputStream()
    out.configure(dtype="float32", shape=(-1, 2))
    poller = ThreadPollOutput(out)
    got = []
    done = threading.Event()
    poller.new_data.connect(lambda pos, data: (got.append(pos), done.set()))
    poller.start()
    out.send(_chunk(3))
    assert done.wait(10) and got == [3]
    poller.stop()
    poller.wait()
    poller.instream.close()
    out.close()


def test_stream_converter_and_channel_splitter_are_registered_nodes():
    from pyacq.core import Node, NodeGroup
    from pyacq.core.tools import ChannelSplitter, StreamConverter
    group = NodeGroup(name="g")
    conv = group.create_node("StreamConverter", name="conv")
    split = group.create_node("ChannelSplitter", name="split")
    assert isinstance(conv, StreamConverter) and isinstance(split, ChannelSplitter)
    out = OutputStream()
    out.configure(dtype="float32", shape=(-1, 3), channel_info=[{"name": c} for c in "abc"])
    split.configure(output_channels={"left": [0], "right": [1, 2]})
    split.input.connect(out)
    assert split.outputs["right"].spec["shape"] == (-1, 2)
    assert [c["name"] for c in split.outputs["right"].spec["channel_info"]] == ["b", "c"]
    group.close()
    out.close()
    assert not isinstance(conv, Node)      # acqflow's node life-cycle, not pyacq's (see docs)
