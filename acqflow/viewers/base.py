"""ViewerNode: a Node that owns a Qt widget and draws the newest data of its inputs.

Viewers are leaky by design.  A reader thread per input receives every chunk
(so a slow display never back-pressures the graph) and only records where the
stream is: plaindata chunks land in a local ring (``set_buffer``), sharedmem
chunks are read zero-copy from the output's ring.  A QTimer in the GUI thread
then draws whatever is newest; what arrived but could not be drawn is counted
in ``skipped``.  Event-like streams (events, epochs) go through a bounded queue.
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from ..dataflow.streams import clock
from ..dataflow import paramcheck as check
from ..dataflow.graph.configsig import passes_kwargs_to
from ..dataflow.errors import StreamError
from ..dataflow.graph.node import Node
from ..dataflow.streams.spec import make_dtype
from ..dataflow.streams.threadpoll import ThreadPollInput

__all__ = ["ViewerNode", "InputReader", "get_app", "grab_array", "save_png", "channel_names",
           "process_events_until"]

log = logging.getLogger(__name__)


def get_app() -> QtWidgets.QApplication:
    """The QApplication of this process (created if there is none yet; offscreen when
    there is no display, so that headless runs draw instead of aborting)."""
    import os
    import sys
    if QtWidgets.QApplication.instance() is None and sys.platform.startswith("linux") and \
            not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY") and \
            not os.environ.get("WAYLAND_DISPLAY"):
        log.warning("no display: Qt draws offscreen (set QT_QPA_PLATFORM to choose)")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return pg.mkQApp()


def grab_array(widget: QtWidgets.QWidget) -> np.ndarray:
    """What ``widget`` shows, as an (h, w, 4) uint8 RGBA array."""
    img = widget.grab().toImage().convertToFormat(QtGui.QImage.Format_RGBA8888)
    w, h = img.width(), img.height()
    ptr = img.constBits()
    ptr.setsize(img.bytesPerLine() * h)
    arr = np.frombuffer(ptr, np.uint8).reshape(h, img.bytesPerLine() // 4, 4)
    return arr[:, :w].copy()


def save_png(widget: QtWidgets.QWidget, path: str) -> None:
    """Save a screenshot of ``widget`` to ``path`` (PNG)."""
    import os
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if not widget.grab().save(str(path)):
        raise OSError(f"could not save a screenshot to {path}")


def process_events_until(condition, timeout: float = 10.0) -> bool:
    """Run the Qt event loop until ``condition()`` holds (True) or ``timeout`` s pass (False)."""
    app = get_app()
    deadline = time.monotonic() + timeout
    while True:
        app.processEvents(QtCore.QEventLoop.AllEvents, 20)
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        QtCore.QThread.msleep(5)


def channel_names(params: dict, n: int, prefix: str = "ch") -> list[str]:
    """Channel names from a stream's ``channel_info`` (``prefix{i}`` where missing)."""
    info = params.get("channel_info")
    names = []
    for i in range(n):
        item = info[i] if isinstance(info, list) and i < len(info) else None
        name = item.get("name") if isinstance(item, dict) else (item if isinstance(item, str) else None)
        names.append(str(name) if name else f"{prefix}{i}")
    return names


class InputReader(ThreadPollInput):
    """Receives every chunk of one input in a thread, without ever waiting on the display.

    A ThreadPollInput whose ``process_data`` only records where the stream is.

    ``mode='ring'``: remember the head index; data stays in ``ring`` (local ring for
    plaindata, the shared ring for sharedmem, zero-copy).  ``mode='queue'``: keep
    the newest ``maxlen`` chunks in ``queue``; older ones are dropped and counted
    in ``overflow`` (items).  ``on_chunk(index, data)`` runs in the thread if set.
    """

    def __init__(self, input_stream, mode: str = "ring", buffer_size: int = 0,
                 maxlen: int = 1000, name: str | None = None):
        self.sharedmem = input_stream.params.get("transfermode") == "sharedmem"
        return_data = False if (mode == "ring" and self.sharedmem) else True
        super().__init__(input_stream, timeout=50, return_data=return_data, name=name)
        self.mode = mode
        self.lock = threading.Lock()
        self.chunks = 0
        self.samples = 0
        self.head: int | None = None
        self.overflow = 0
        self.queue: collections.deque = collections.deque()
        self.maxlen = int(maxlen)
        self.on_chunk = None
        if mode == "ring" and not self.sharedmem:
            input_stream.set_buffer(max(2, int(buffer_size)), double=True)

    @property
    def ring(self):
        """The ring holding the newest samples (ring mode)."""
        return self.input_stream.buffer

    def process_data(self, index: int, data) -> None:
        """Keep a received chunk (counted; queued in queue mode) for the next refresh."""
        if self.on_chunk is not None:
            self.on_chunk(index, data)
        with self.lock:
            self.chunks += 1
            self.samples = self.input_stream.received_samples
            self.head = index
            if self.mode == "queue":
                self.queue.append((index, data, clock.now()))
                while len(self.queue) > self.maxlen:
                    self.overflow += len(self.queue.popleft()[1])

    def take(self) -> list:
        """Queue mode: every chunk waiting as (index, data, arrival time), oldest first."""
        with self.lock:
            items = list(self.queue)
            self.queue.clear()
        return items

    def snapshot(self) -> tuple[int, int | None]:
        """(chunks received, head index) at this instant."""
        with self.lock:
            return self.chunks, self.head

    def counts(self) -> tuple[int, int, int | None]:
        """(chunks, samples received, head index) at this instant."""
        with self.lock:
            return self.chunks, self.samples, self.head


class ViewerNode(Node):
    """Base of viewers: a widget, a reader per input and a refresh timer.

    Parameters common to all viewers (``configure``): ``refresh_rate`` (Hz, 30),
    ``show`` (open as a window at initialize, True), ``title``, ``size`` (w, h).
    Counters: ``frames`` (refreshes that drew new data), ``drawn_chunks`` (chunks
    whose data reached the screen), ``skipped`` (items received but never drawn:
    samples, frames or events), ``received_chunks``.
    """

    _input_mode = "ring"           # or "queue"
    _default_size = (800, 500)

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self.widget: QtWidgets.QWidget | None = None
        self.readers: dict[str, InputReader] = {}
        self.frames = 0
        self.drawn_chunks = 0
        self.skipped = 0
        self.paused = False
        self._timer: Any = None          # a QTimer once the widget exists
        self._fps_times: collections.deque = collections.deque(maxlen=60)
        self.refresh_rate = 30.0
        self.show_window = True
        self.title: str | None = None
        self.size: tuple[int, ...] = self._default_size
        #: the viewer's settings as a pyqtgraph Parameter tree (built at initialize by the
        #: viewers that have one; changing a value takes effect at once)
        self.params: Any = None          # a pyqtgraph Parameter tree (viewers that have one)

    # -- configuration -------------------------------------------------------
    @passes_kwargs_to("_configure_viewer")
    def _configure(self, refresh_rate: float = 30.0, show: bool = True, title: str | None = None,
                   size: tuple[int, int] | None = None, **kwargs: Any) -> None:
        check.positive_number(f"{self.name}: refresh_rate", refresh_rate, " Hz")
        self.refresh_rate = float(refresh_rate)
        self.show_window, self.title = bool(show), title
        self.size = tuple(size) if size is not None else self._default_size
        self._configure_viewer(**kwargs)

    def _configure_viewer(self) -> None:
        # viewer-specific keyword parameters (subclasses); configure() shows them
        pass

    def check_params(self, inputname: str, params: dict) -> None:
        """Refuse an input this viewer cannot draw (ValueError) for what ``_input_specs``
        cannot say (e.g. the record fields an event viewer needs)."""

    def after_input_connect(self, inputname: str) -> None:
        super().after_input_connect(inputname)        # the _input_specs checks
        inp = self.inputs[inputname]
        try:
            self.check_params(inputname, inp.params)
        except Exception:
            inp.close()
            raise

    # -- life-cycle ----------------------------------------------------------
    def ring_size(self, inputname: str) -> int:
        """Samples a plaindata input keeps locally (subclasses size it to their window)."""
        return 4

    def _initialize(self) -> None:
        get_app()
        self.readers = {}
        for k, inp in self.inputs.items():
            self.readers[k] = InputReader(self.reader_input(k), self._input_mode, self.ring_size(k),
                                          name=f"{self.name} reader {k}")
        self.widget = self.make_widget()
        self.widget.setWindowTitle(self.title or self.name)
        self.widget.resize(*self.size)
        self._timer = QtCore.QTimer()
        self._timer.timeout.connect(self._tick)
        if self.show_window:
            self.widget.show()

    def reader_input(self, inputname: str):
        """The stream a reader follows for input ``inputname`` (the input itself, unless a
        viewer draws what an inner node computed from it)."""
        return self.inputs[inputname]

    def make_widget(self) -> QtWidgets.QWidget:
        """Build the viewer's widget (inputs are connected; their params are known)."""
        raise NotImplementedError

    def _start(self) -> None:
        for k, reader in list(self.readers.items()):
            if reader.is_alive() or reader.ident is not None:      # threads start once
                reader = self.readers[k] = InputReader(self.reader_input(k), self._input_mode,
                                                       self.ring_size(k), name=reader.name)
            reader.on_error = self.set_error
            self.on_reader(k, reader)
            reader.start()
        self._timer.start(max(1, int(round(1000.0 / self.refresh_rate))))

    def on_reader(self, inputname: str, reader: InputReader) -> None:
        """Hook: a reader is about to start (e.g. to set ``reader.on_chunk``)."""

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        for reader in self.readers.values():
            reader.stop()
        for reader in self.readers.values():
            if reader.is_alive():
                reader.join(2.0)

    def _close(self) -> None:
        self._stop()
        if self.widget is not None:
            self.widget.close()
            self.widget.deleteLater()
            self.widget = None

    # -- drawing -------------------------------------------------------------
    def set_refresh_rate(self, hz: float) -> None:
        """Redraw ``hz`` times per second (also while running)."""
        check.positive_number(f"{self.name}: refresh_rate", hz, " Hz")
        self.refresh_rate = float(hz)
        if self._timer is not None and self._timer.isActive():
            self._timer.setInterval(max(1, int(round(1000.0 / self.refresh_rate))))

    def _tick(self) -> None:
        if self.paused or self.state != "running":
            return
        try:
            drew = self.refresh()
        except Exception as exc:          # a drawing bug must not kill the GUI thread
            log.exception("%s: refresh failed", self.name)
            self.set_error(f"refresh failed: {exc!r}")
            self._timer.stop()
            return
        if drew:
            self.frames += 1
            self._fps_times.append(time.monotonic())

    def refresh(self) -> bool:
        """Draw the newest data; True when something new was drawn."""
        raise NotImplementedError

    @property
    def received_chunks(self) -> int:
        """Chunks received over every input since start."""
        return sum(r.chunks for r in self.readers.values())

    def fps(self) -> float:
        """Frames drawn per second, over the last frames."""
        t = self._fps_times
        if len(t) < 2 or t[-1] - t[0] <= 0:
            return 0.0
        return (len(t) - 1) / (t[-1] - t[0])

    def counters(self) -> dict[str, Any]:
        """Plain-value counters (for tests, the monitor and remote callers)."""
        return {"frames": self.frames, "drawn_chunks": self.drawn_chunks, "skipped": self.skipped,
                "received_chunks": self.received_chunks, "fps": round(self.fps(), 2),
                "dropped": sum(i.dropped for i in self.inputs.values() if i.connected)}

    def pause(self, paused: bool = True) -> None:
        """Freeze the display (data keeps being received and the newest is shown on resume)."""
        self.paused = bool(paused)

    def resume(self) -> None:
        """Unfreeze the display after pause(); it jumps to the newest data."""
        self.pause(False)

    # -- windows -------------------------------------------------------------
    def show(self) -> None:
        """Show the widget (as its own window unless docked in a ViewerPanel)."""
        self._need_widget().show()

    def hide(self) -> None:
        """Hide the widget (the viewer keeps receiving)."""
        self._need_widget().hide()

    def grab_array(self) -> np.ndarray:
        """Screenshot of the widget as an (h, w, 4) RGBA array."""
        return grab_array(self._need_widget())

    def save_screenshot(self, path: str) -> None:
        """Save a screenshot of the widget to ``path`` as PNG."""
        save_png(self._need_widget(), path)

    def _need_widget(self) -> QtWidgets.QWidget:
        if self.widget is None:
            raise StreamError(f"viewer {self.name!r} has no widget yet: initialize() it first")
        return self.widget


def field_dtype(params: dict) -> np.dtype:
    """The numpy dtype of a stream's samples."""
    return make_dtype(params["dtype"])
