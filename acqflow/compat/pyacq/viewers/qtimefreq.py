"""pyacq's QTimeFreq: a live wavelet map per channel of a raw signal (acqflow's TimeFrequency node
computes, acqflow's TimeFrequencyViewer draws)."""
from __future__ import annotations

import logging
from typing import Any

from pyqtgraph.parametertree import Parameter

from ....dataflow.streams.inputstream import InputStream
from ....dataflow.graph.registry import register_node_type
from ....nodes.timefreq import TimeFrequency
from ....viewers.timefreq import TimeFrequencyViewer
from ._widgetnode import PyacqViewer
from .timefreqworker import TimeFreqWorker, generate_wavelet_fourier

__all__ = ["QTimeFreq", "HAVE_SCIPY", "TIMEFREQ_PARAMS", "TimeFreqWorker", "generate_wavelet_fourier"]

log = logging.getLogger(__name__)

#: scipy is a dependency of acqflow.
HAVE_SCIPY = True

TIMEFREQ_PARAMS = [
    {"name": "f_start", "type": "float", "value": 3., "step": 1.},
    {"name": "f_stop", "type": "float", "value": 90., "step": 1.},
    {"name": "deltafreq", "type": "float", "value": 3., "step": 1., "limits": [0.1, 1.e6]},
    {"name": "f0", "type": "float", "value": 2.5, "step": 0.1},
    {"name": "normalisation", "type": "float", "value": 0., "step": 0.1},
]


class QTimeFreq(PyacqViewer, TimeFrequencyViewer):
    """``configure(with_user_dialog=True, max_xsize=60., nodegroup_friends=None)`` on a raw
    ``signals`` input; ``params`` as pyacq's (``xsize``, ``nb_column``, ``colormap``,
    ``refresh_interval``, ..., and the ``timefreq`` group: ``f_start``, ``f_stop``,
    ``deltafreq``, ``f0``; changing it recomputes with the new wavelets).

    The maps are computed in this process by one acqflow TimeFrequency node (``worker``)
    for all channels; ``nodegroup_friends`` (pyacq's workers in other processes) is
    accepted and not used.  ``normalisation`` is shown and has no effect (acqflow's
    maps are amplitudes).
    """

    def __init__(self, name: str | None = None, **kwargs: Any):
        super().__init__(name=name)
        self.worker: TimeFrequency | None = None
        self._tf_input: InputStream | None = None

    def _configure_viewer(self, max_xsize: float = 60., nodegroup_friends: Any = None,  # type: ignore[override]  # pyacq's arguments
                          xsize: float = 10., **kwargs: Any) -> None:
        self.max_xsize, self.nodegroup_friends = float(max_xsize), nodegroup_friends
        super()._configure_viewer(xsize=xsize, **kwargs)

    def reader_input(self, inputname: str):
        return self._tf_input

    def _start_worker(self, tf: dict) -> None:
        """(Re)make the worker with the ``timefreq`` values and follow its output."""
        raw = self.inputs["signals"].params
        worker = TimeFrequency(name=f"{self.name}.worker")
        worker.configure(channels=list(range(int(raw["shape"][1]))), f_start=tf["f_start"],
                         f_stop=tf["f_stop"], deltafreq=tf["deltafreq"], f0=tf["f0"])
        worker.input.connect(raw)
        worker.output.configure(protocol="inproc", transfermode="plaindata")
        worker.initialize()
        self._tf_input = InputStream(name="timefreq")
        self._tf_input.connect(worker.output)
        self.worker = worker

    def _initialize(self) -> None:
        tf = {p["name"]: p["value"] for p in TIMEFREQ_PARAMS}
        self._start_worker(tf)
        # the worker has its own subscription: an unread one here could hold back a
        # producer with backpressure='block'; the params stay known
        self.inputs["signals"].close()
        super()._initialize()
        self.params.addChild(Parameter.create(name="timefreq", type="group",
                                              children=[dict(p) for p in TIMEFREQ_PARAMS]))
        self.params.param("xsize").setLimits([0.1, self.max_xsize])
        self.params.param("timefreq").sigTreeStateChanged.connect(self._on_timefreq_change)

    def _start(self) -> None:
        assert self.worker is not None       # (made by initialize())
        self.worker.start()
        super()._start()

    def _stop(self) -> None:
        super()._stop()
        if self.worker is not None and self.worker.running:     # an acqflow node
            self.worker.stop()

    def _close(self) -> None:
        super()._close()
        self._close_worker()

    def _close_worker(self) -> None:
        if self._tf_input is not None:
            self._tf_input.close()
        if self.worker is not None:
            self.worker.close()

    def _on_timefreq_change(self, tree, changes) -> None:
        if not any(change == "value" for _, change, _ in changes):
            return
        tf = {p.name(): p.value() for p in tree.children()}
        running = self.state == "running"
        try:
            if running:
                super()._stop()
                assert self.worker is not None   # (running: it has one)
                self.worker.stop()
            self._close_worker()
            self._start_worker(tf)
        except ValueError as exc:                 # e.g. f_stop above Nyquist: refused, logged
            log.error("%s: timefreq %s refused: %s", self.name, tf, exc)
            return
        old_params, self.params = self.params, None
        self.make_widget_plots()
        self.params = old_params
        if running:
            assert self.worker is not None       # (just made)
            self.worker.start()
            super()._start()

    def make_widget_plots(self) -> None:
        """Rebuild the images for the worker's new frequencies."""
        import numpy as np
        self.freqs = np.asarray(self.stream_params["freqs"], float)
        self._build_plots()

    @property
    def nb_channel(self) -> int:
        return int(self.inputs["signals"].params["shape"][1])


register_node_type(QTimeFreq)
