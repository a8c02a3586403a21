"""Threads take seconds, as Python's join: StoppableThread.wait (and a device Worker.stop:
tests/devices/test_worker.py; pyacq's ThreadPollInput.wait keeps QThread's milliseconds:
tests/compat/test_pyacq_units.py)."""
from acqflow.dataflow.threadpoll import StoppableThread


class _Recording(StoppableThread):
    """Runs until stopped, and records what join() was asked to wait."""

    def __init__(self):
        super().__init__("units")
        self.joined = []

    def loop(self):
        self.stopping.wait()

    def join(self, timeout=None):
        self.joined.append(timeout)
        super().join(timeout)


def test_stoppable_thread_wait_takes_seconds_as_join():
    thread = _Recording()
    thread.start()
    assert thread.wait(0.01) is False            # still running
    thread.stop()
    assert thread.wait(10) is True
    assert thread.joined == [0.01, 10]
