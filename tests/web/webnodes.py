"""A small video source for the web monitor tests (imported in group processes too)."""
import threading
import time

import numpy as np

from acqflow import Node, register_node_type


class Frames(Node):
    """Sends 48x64 RGB frames at ``fps``: a red bar at column ``index % 64`` (``frames``),
    and each frame's index as one sample (``level``)."""

    _output_specs = {"frames": {"dtype": "uint8", "shape": (-1, 48, 64, 3), "sample_rate": 20.0,
                                "streamtype": "video"},
                     "level": {"dtype": "float32", "shape": (-1, 1), "sample_rate": 20.0}}

    def _configure(self, fps=20.0):
        self.fps = float(fps)

    def _start(self):
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{self.name} sender", daemon=True)
        self._thread.start()

    def _run(self):
        t0, n = time.perf_counter(), 0
        while not self._halt.wait(max(0.0, t0 + n / self.fps - time.perf_counter())):
            frame = np.zeros((1, 48, 64, 3), np.uint8)
            frame[0, :, n % 64, 0] = 255
            self.outputs["frames"].send(frame)
            self.outputs["level"].send(np.array([[n]], np.float32))
            n += 1

    def _stop(self):
        self._halt.set()
        self._thread.join()


register_node_type(Frames)
