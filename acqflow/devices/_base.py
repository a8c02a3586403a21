"""Shared machinery of device nodes: lazy optional imports, a worker thread, spec checks."""
from __future__ import annotations

import importlib
import logging
import threading
from types import ModuleType
from typing import Callable

from ..dataflow.node import Node
from ..dataflow.spec import make_dtype
from ..dataflow.threadpoll import StoppableThread

__all__ = ["require", "DeviceNode", "Worker", "current_worker"]

log = logging.getLogger(__name__)

_JOIN_TIMEOUT = 5.0   # s


def require(module: str, extra: str, device: str) -> ModuleType:
    """Import an optional library, or raise ImportError naming the pip extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{device} needs the {module!r} package: pip install acqflow[{extra}] "
                          f"({exc})") from exc


class Worker(StoppableThread):
    """Calls ``step()`` until stopped or until it returns False; reports exceptions to the node.

    A source loop: the same stoppable thread as ThreadPollInput (``stopping``, ``error``,
    exceptions reported, never swallowed), but it has no input to poll, and its ``stop``
    also waits, because a device is released only once its loop has ended.
    """

    def __init__(self, node: "DeviceNode", step: Callable[[], bool | None], name: str):
        super().__init__(f"{node.name} {name}", on_error=node.device_lost)
        self.node = node
        self.step = step

    def loop(self) -> None:
        stopping, step = self.stopping, self.step
        while not stopping.is_set():
            if step() is False:
                break

    def report(self, exc: BaseException) -> None:
        log.error("%s failed", self.name, exc_info=exc)
        super().report(exc)

    def stop(self, timeout: float = _JOIN_TIMEOUT) -> bool:  # type: ignore[override]
        """Ask the loop to end and wait up to ``timeout`` seconds for it (threads' unit, as
        ``wait`` and ``join``); False if it did not end in time."""
        self.stopping.set()
        if threading.current_thread() is not self:
            self.wait(timeout)
        return not self.is_alive()


def current_worker() -> Worker:
    """The Worker running the calling ``step()`` (for its ``stopping`` event)."""
    worker = threading.current_thread()
    if not isinstance(worker, Worker):
        raise RuntimeError("current_worker() called outside a device worker thread")
    return worker


class DeviceNode(Node):
    """A Node that owns worker threads and turns device loss into the ``error`` state.

    Subclasses create workers with ``add_worker(step, name)`` in ``_start`` and call
    ``device_lost(reason)`` (from any thread) when the device disappears: the node
    moves to ``error`` with the reason and its outputs are closed, so downstream
    inputs see the end of the stream instead of waiting forever.
    """

    def __init__(self, name: str | None = None):
        super().__init__(name=name)
        self._workers: list[Worker] = []
        self._lost_reason: str | None = None
        self._halting = threading.Event()

    # -- spec helpers --------------------------------------------------------
    def _set_output_spec(self, name: str, **params) -> None:
        """Replace what the device produces on output ``name`` (before initialize)."""
        spec = self.outputs[name].spec
        for key in ("dtype", "shape", "sample_rate", "channel_info", "streamtype"):
            spec.pop(key, None)
        spec.update(params)

    def _check_outputs(self) -> None:
        """At initialize: an output configured by hand must still match the device."""
        for name, out in self.outputs.items():
            for key in ("dtype", "shape", "streamtype"):
                want = out.spec.get(key)
                have = out.params.get(key)
                if want is None:
                    continue
                same = make_dtype(want) == make_dtype(have) if key == "dtype" else \
                    (tuple(want) == tuple(have or ()) if key == "shape" else want == have)
                if not same:
                    raise ValueError(f"{self.name}: output {name!r} was configured with {key}={have!r} "
                                     f"but the device produces {key}={want!r}")

    # -- workers -------------------------------------------------------------
    def add_worker(self, step: Callable[[], bool | None], name: str) -> Worker:
        """Start a thread calling ``step()`` in a loop (see Worker)."""
        self._halting.clear()
        worker = Worker(self, step, name)
        self._workers.append(worker)
        worker.start()
        return worker

    def stop_workers(self) -> None:
        """Stop and join every worker; one that hangs is abandoned with an error log."""
        self._halting.set()
        workers, self._workers = self._workers, []
        for w in workers:
            w.stopping.set()
        for w in workers:
            if not w.stop():
                log.error("%s did not stop within %s s; abandoned", w.name, _JOIN_TIMEOUT)

    def device_lost(self, reason: str) -> None:
        """The device failed or disappeared: go to ``error``, end the workers, close outputs."""
        me = threading.current_thread()
        for w in self._workers:
            w.stopping.set()
        # Never block on the state lock: stop()/close() may hold it while joining us.
        lock = self._state_lock
        while not lock.acquire(timeout=0.05):
            if self._halting.is_set():
                self._lost_reason = reason          # stop()/close() in progress: they report it
                return
        try:
            if self.state in ("closed", "error"):
                return
            self.set_error(reason)
        finally:
            lock.release()
        for w in list(self._workers):
            if w is not me:
                w.stop()
        self._close_outputs()

    def _close_outputs(self) -> None:
        for out in self.outputs.values():
            try:
                out.close()
            except Exception:   # pragma: no cover - closing is best effort
                log.exception("closing output %s", out.name)

    def close(self) -> None:
        """Stop if running and release the device; never raises for a device lost meanwhile."""
        self._closing = True
        super().close()

    def _stop(self) -> None:
        self.stop_workers()
        self._stop_device()
        if self._lost_reason is not None:
            reason, self._lost_reason = self._lost_reason, None
            if not getattr(self, "_closing", False):
                raise RuntimeError(f"device lost while stopping: {reason}")
            log.warning("%s: device lost while closing: %s", self.name, reason)

    def _close(self) -> None:
        self.stop_workers()
        self._close_device()

    # -- hooks ---------------------------------------------------------------
    def _stop_device(self) -> None:
        """Stop the device itself (after the workers have ended)."""

    def _close_device(self) -> None:
        """Release the device (after the workers have ended)."""
