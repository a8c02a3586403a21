"""Node types for the multi-host clock tests (imported in the group processes too)."""
import threading
import time

import numpy as np

from acqflow import Node, register_node_type


class TrueTimeSource(Node):
    """Sends one sample per ``period`` s holding ``[time.time(), index]``.

    ``time.time()`` is the kernel's clock, which two network namespaces share;
    the chunk's header stamp is ``clock.now()``, which ACQFLOW_CLOCK_OFFSET
    shifts.  So the data says when a chunk really was sent, whatever the
    process's (simulated) clock says.
    """

    _output_specs = {"signals": {"dtype": "float64", "shape": (-1, 2), "sample_rate": 200.0}}

    def _configure(self, period=0.005):
        self.period = float(period)
        self.outputs["signals"].spec["sample_rate"] = 1.0 / self.period

    def _start(self):
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{self.name} sender", daemon=True)
        self._thread.start()

    def _run(self):
        out = self.outputs["signals"]
        while not self._halt.wait(self.period):
            out.send(np.array([[time.time(), float(out.index)]]))

    def _stop(self):
        self._halt.set()
        self._thread.join()


register_node_type(TrueTimeSource)
