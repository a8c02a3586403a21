"""The seed document's examples (pyacq's streams document), run as written: with ``pyacq``
(the compat aliases, installed for this directory) and with ``acqflow`` in its place."""
import contextlib
import io
import os

import numpy as np
import pytest

import acqflow
from tests.conftest import wait_for
from tests.dataflow.test_seed_example import EXAMPLE as SIMPLE_EXAMPLE
from tests.dataflow.test_seed_example import SEED

BETWEEN_PROCESSES = '''\
import pyacq

# Start a local RPC server so that a remote InputStream will be able
# to make configuration requests from a local OutputStream:
s = pyacq.RPCServer()
s.run_lazy()

# Create the output stream in the local process
o = pyacq.OutputStream()
o.configure(dtype=float)

# Spawn a new process and create an InputStream there
p = pyacq.ProcessSpawner()
rpyacq = p.client._import('pyacq')
i = rpyacq.InputStream()

# Connect the streams exactly as if they were local
i.connect(o)
'''

_TOP_LEVEL_RPC = all(hasattr(acqflow, n) for n in ("RPCServer", "ProcessSpawner"))
PACKAGES = ["pyacq", pytest.param("acqflow", marks=pytest.mark.skipif(
    not _TOP_LEVEL_RPC, reason="top-level acqflow.RPCServer/ProcessSpawner come with the rpc "
                               "and streams branches"))]


def test_between_processes_text_is_the_seed_text():
    if not os.path.exists(SEED):
        return   # the seed lives beside the repository, not in it
    text = open(SEED).read()
    block = text.split("had been created in the same process::")[1].split("Although this")[0]
    code = "\n".join(line[4:] if line.strip() else "" for line in block.splitlines()).strip()
    assert code == BETWEEN_PROCESSES.strip()


@pytest.mark.parametrize("package", PACKAGES)
def test_between_processes_runs_as_written(package):
    namespace = {"__name__": "example"}
    exec(compile(BETWEEN_PROCESSES.replace("pyacq", package), "example", "exec"), namespace)
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
