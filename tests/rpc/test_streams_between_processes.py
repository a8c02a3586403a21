"""pyacq's "Streaming between processes" example: a remote InputStream connects to a local
OutputStream through RPC (the child calls back ``o.params._get_value()`` while we wait)."""
import numpy as np
import pytest

from acqflow.dataflow import OutputStream
from acqflow.rpc import ProcessSpawner, RPCServer

pytestmark = pytest.mark.timeout(60)


def test_remote_input_connects_to_local_output():
    s = RPCServer()
    s.run_lazy()
    o = OutputStream()
    o.configure(dtype="float32", shape=(-1, 2))
    p = ProcessSpawner(name="stream-child")
    try:
        racq = p.client._import("acqflow")
        i = racq.InputStream()
        i.connect(o)                              # o travels as a proxy to our lazy server
        assert i.params._get_value()["url"] == o.params["url"]
        data = np.arange(6, dtype="float32").reshape(3, 2)
        o.send(data)
        index, received = i.recv(timeout=5000)
        assert index == 3
        assert np.array_equal(received, data)
        i.close()
    finally:
        p.stop()
        o.close()
        s.close()


def test_local_input_connects_to_remote_output(child):
    from acqflow.dataflow import InputStream
    racq = child.client._import("acqflow")
    ro = racq.OutputStream()
    ro.configure(dtype="int16", shape=(-1, 3))
    i = InputStream()
    i.connect(ro)                                 # params fetched through the proxy
    data = np.ones((4, 3), dtype="int16")
    ro.send(data)
    index, received = i.recv(timeout=5000)
    assert index == 4 and np.array_equal(received, data)
    i.close()
    ro.close()
