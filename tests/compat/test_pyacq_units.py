"""pyacq's units where pyacq has them: ThreadPollInput.wait in ms, as QThread's (acqflow's
threads take seconds: tests/dataflow/test_thread_units.py)."""
import threading

import pytest

from acqflow.dataflow import InputStream, OutputStream

pytest.importorskip("PyQt5")


def test_pyacq_thread_poll_input_wait_keeps_milliseconds():
    from pyacq.core.tools import ThreadPollInput
    out = OutputStream()
    out.configure(dtype="float32", shape=(-1, 2))
    inp = InputStream()
    inp.connect(out)
    joined = []
    poller = ThreadPollInput(inp, timeout=20)
    poller.join = lambda timeout=None: (joined.append(timeout), threading.Thread.join(poller, timeout))
    poller.start()
    assert poller.wait(10) is False               # 10 ms
    poller.stop()
    assert poller.wait(10_000) is True
    assert joined == [0.01, 10.0]
    inp.close()
    out.close()
