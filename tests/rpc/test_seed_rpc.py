"""The seed document's (pyacq-streams.rst) RPC examples, as written, with acqflow for pyacq."""
import textwrap

import numpy as np
import pytest

import acqflow
from acqflow.testing import run_python

pytestmark = pytest.mark.timeout(120)

# "Streaming between processes", verbatim but for the package name
SEED_EXAMPLE = textwrap.dedent("""
    import acqflow

    # Start a local RPC server so that a remote InputStream will be able
    # to make configuration requests from a local OutputStream:
    s = acqflow.RPCServer()
    s.run_lazy()

    # Create the output stream in the local process
    o = acqflow.OutputStream()
    o.configure(dtype=float)

    # Spawn a new process and create an InputStream there
    p = acqflow.ProcessSpawner()
    rpyacq = p.client._import('acqflow')
    i = rpyacq.InputStream()

    # Connect the streams exactly as if they were local
    i.connect(o)
""")


def test_top_level_rpc_names():
    from acqflow import rpc
    assert acqflow.RPCServer is rpc.RPCServer and acqflow.RPCClient is rpc.RPCClient
    assert acqflow.ProcessSpawner is rpc.ProcessSpawner and acqflow.ObjectProxy is rpc.ObjectProxy
    code = ("import sys, acqflow; assert 'PyQt5' not in sys.modules; "
            "Q = acqflow.QtRPCServer; print(Q.__module__, 'PyQt5' in sys.modules)")
    assert run_python(code).stdout.split() == ["acqflow.rpc.qtserver", "True"]


def test_streaming_between_processes():
    """The example in this process, then data sent through the connected streams."""
    ns: dict = {}
    exec(SEED_EXAMPLE, ns)
    s, o, p, i = ns["s"], ns["o"], ns["p"], ns["i"]
    try:
        data = np.arange(12, dtype=float).reshape(6, 2)
        o.send(data)
        index, got = i.recv(timeout=30)
        assert index == 6 and np.array_equal(got, data)
    finally:
        i.close()
        o.close()
        assert p.stop() == 0
        s.close()


def test_seed_example_as_a_script():
    """The example as a whole program: it runs and the process exits cleanly."""
    run_python(SEED_EXAMPLE, timeout=90)      # exits 0
