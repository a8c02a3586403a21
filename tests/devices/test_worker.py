"""Devices' Worker: a StoppableThread (ThreadPollInput's base) whose failure is the device's loss."""
import threading

import numpy as np

import acqflow
from acqflow.dataflow.threadpoll import StoppableThread
from acqflow.devices._base import DeviceNode, Worker


class Flaky(DeviceNode):
    """Sends one chunk; once ``unplug`` is set its step raises (a device that disappears)."""

    _output_specs = {"output": {"protocol": "inproc", "dtype": "float32", "shape": (-1, 1),
                                "sample_rate": 100.0}}

    def _start(self):
        self.sent, self.unplug = threading.Event(), threading.Event()
        self.worker = self.add_worker(self._step, "flaky")

    def _step(self):
        if self.unplug.wait(0.01):
            raise OSError("unplugged")
        if not self.sent.is_set():
            self.output.send(np.zeros((4, 1), "float32"))
            self.sent.set()


def test_a_failing_step_is_the_device_loss_and_is_kept():
    node = Flaky(name="flaky")
    node.configure()
    node.initialize()
    sink = acqflow.InputStream()
    sink.connect(node.output)
    node.start()
    assert isinstance(node.worker, StoppableThread) and isinstance(node.worker, Worker)
    index, _ = sink.recv(timeout=5000)
    assert index == 4
    node.unplug.set()
    assert node.worker.wait(10)
    assert node.state == "error" and node.error_reason == "OSError: unplugged"
    assert isinstance(node.worker.error, OSError)
    node.close()
    sink.close()


class Stuck(DeviceNode):
    """A worker whose step waits for ``release``: stop() cannot end it before."""

    def _start(self):
        self.release = threading.Event()
        self.worker = self.add_worker(lambda: self.release.wait(30) and False, "stuck")


def test_worker_stop_timeout_is_in_seconds_like_wait_and_join():
    node = Stuck(name="stuck")
    node.configure()
    node.initialize()
    node.start()
    assert node.worker.stop(timeout=0.05) is False     # 50 ms: returns, loop still on
    node.release.set()
    assert node.worker.stop(timeout=10) is True
    assert node.worker.wait(0)
    node.close()
