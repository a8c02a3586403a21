"""The seed document's examples (pyacq's streams document) run as written with ``pyacq`` (the
compat aliases, installed for this directory).  With ``acqflow`` in its place they run in
tests/dataflow/test_seed_example.py and tests/rpc/test_seed_rpc.py, whose texts are reused."""
import contextlib
import io
import os

import numpy as np

from acqflow.testing import wait_for
from tests.dataflow.test_seed_example import EXAMPLE as SIMPLE_EXAMPLE
from tests.dataflow.test_seed_example import SEED
from tests.rpc.test_seed_rpc import SEED_EXAMPLE

BETWEEN_PROCESSES = SEED_EXAMPLE.replace("acqflow", "pyacq")


def test_between_processes_text_is_the_seed_text():
    if not os.path.exists(SEED):
        return   # the seed lives beside the repository, not in it
    text = open(SEED).read()
    block = text.split("had been created in the same process::")[1].split("Although this")[0]
    code = "\n".join(line[4:] if line.strip() else "" for line in block.splitlines()).strip()
    assert code == BETWEEN_PROCESSES.strip()


def test_between_processes_runs_as_written_with_pyacq():
    namespace = {"__name__": "example"}
    exec(compile(BETWEEN_PROCESSES, "example", "exec"), namespace)
    o, i, p, s = namespace["o"], namespace["i"], namespace["p"], namespace["s"]
    try:
        # the connection works: data sent here arrives in the other process
        o.send(np.array([[1.0], [2.0]]))
        index, data = i.recv(timeout=10000)
        assert index == 2 and data.tolist() == [[1.0], [2.0]]
    finally:
        i.close()
        p.stop()
        o.close()
        s.close()


def test_simple_example_runs_as_written_with_pyacq():
    out = io.StringIO()
    namespace = {"__name__": "example"}
    with contextlib.redirect_stdout(out):
        exec(compile(SIMPLE_EXAMPLE, "example", "exec"), namespace)
        wait_for(lambda: "Received" in out.getvalue(), timeout=10)
    assert out.getvalue().startswith("Received: (3, array([[1, 2],")
    # The example's thread loops forever on recv(): its streams stay open to the end.
