"""Node types for the multi-host clock tests (imported in the group processes too)."""
import threading

import numpy as np

from acqflow import Node, register_node_type
from acqflow.dataflow.streams import clock


class TrueTimeSource(Node):
    """Sends one sample per ``period`` s holding ``[true time, index]``, stamped with the
    same instant on the process's clock.

    The stamp is one ``clock.now()`` reading, passed to ``send`` as the chunk's sample
    time; the true time is that reading minus the simulated offset (ACQFLOW_CLOCK_OFFSET),
    i.e. the kernel's clock, which two network namespaces share.  So the data says when
    the chunk was stamped, whatever the process's (simulated) clock says.  (Two separate
    readings, one for the data and one in ``send``, drift apart by whatever the scheduler
    puts between them: tens of ms on a loaded machine.)
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
            t = clock.now()
            out.send(np.array([[t - clock.TEST_OFFSET, float(out.index)]]), time=t)

    def _stop(self):
        self._halt.set()
        self._thread.join()


register_node_type(TrueTimeSource)
