"""A node whose initialize() waits for a file to exist: holds a graph's build at a known
point (for tests that interrupt `acqflow run` during its start-up)."""
import os
import time

from acqflow import Node, register_node_type


class Gate(Node):
    """Consumes anything; ``initialize()`` returns once ``path`` exists (at most 60 s)."""

    _input_specs = {"input": {}}

    def _configure(self, path: str = ""):
        self.path = path

    def _initialize(self):
        deadline = time.monotonic() + 60
        while not os.path.exists(self.path) and time.monotonic() < deadline:
            time.sleep(0.01)


register_node_type(Gate)
