"""Placement rules of build_graph and the shared-memory nonce probe (no namespaces needed)."""
import types

import numpy as np
import pytest

from acqflow import InputStream, OutputStream, StreamError
from acqflow.dataflow.streams.sharedmem import probe_segment
from acqflow.manager.build import _Placement, reachable_interface


@pytest.fixture
def shm_output():
    out = OutputStream(name="sig")
    out.configure(protocol="inproc", transfermode="sharedmem", shape=(-1, 2), dtype="float32",
                  buffer_size=100)
    yield out
    out.close()


def test_sharedmem_nonce_is_published_and_checked(shm_output):
    p = shm_output.params
    assert p["shm_nonce"] and p["clock_id"]
    assert probe_segment(p["shm_name"], p["shm_nonce"]) is None
    assert "another machine" in probe_segment(p["shm_name"], p["shm_nonce"] + 1)
    assert "no nonce" in probe_segment(p["shm_name"], None)
    inp = InputStream()
    inp.connect(p)                      # the right segment: connects
    shm_output.send(np.ones((3, 2), "float32"))
    assert inp.recv(timeout=2000)[0] == 3
    inp.close()


@pytest.mark.parametrize("change", [{"shm_nonce": 12345}, {"shm_nonce": None}])
def test_connect_to_a_segment_that_is_not_the_outputs_names_it_and_suggests_plaindata(shm_output, change):
    params = dict(shm_output.params, **change)
    inp = InputStream()
    with pytest.raises(StreamError) as err:
        inp.connect(params)
    assert params["shm_name"] in str(err.value) and "plaindata" in str(err.value)
    assert not inp.connected


def test_connect_to_a_missing_segment_names_it():
    params = {"url": "inproc://nothing", "transfermode": "sharedmem", "shm_name": "acqflow_0_gone",
              "shm_nonce": 1, "buffer_size": 10, "double": False, "axisorder": None,
              "dtype": "<f4", "shape": (-1, 2), "streamtype": "analogsignal", "sample_rate": 1.0}
    with pytest.raises(StreamError, match="acqflow_0_gone.*plaindata"):
        InputStream().connect(params)


def _placement(groups, hosts):
    spec = types.SimpleNamespace(groups=groups, nodes={"src": types.SimpleNamespace(group="acq")})
    manager = types.SimpleNamespace(hosts={"localhost": None, **hosts})
    return _Placement(spec, manager)


def test_protocols_follow_the_hosts_of_the_consumers():
    place = _placement({"acq": {"host": "rig"}, "proc": {"host": "rig"}, "view": {}},
                       {"rig": {"address": "tcp://10.0.0.2:5600"}})
    sp = place.stream_params
    assert sp("src", "o", {}, {"acq"})["protocol"] == "inproc"
    assert sp("src", "o", {}, {"proc"}) == {"protocol": "ipc"}        # same host: private ipc
    assert sp("src", "o", {"protocol": "inproc"}, {"proc"})["protocol"] == "ipc"
    assert sp("src", "o", {"protocol": "inproc"}, {"view"}) == {"protocol": "tcp", "interface": "10.0.0.2"}
    assert sp("src", "o", {"protocol": "ipc"}, {"view", "proc"}) == {"protocol": "tcp",
                                                                      "interface": "10.0.0.2"}
    # an explicit non-loopback interface is kept
    assert sp("src", "o", {"interface": "0.0.0.0"}, {"view"})["interface"] == "0.0.0.0"


def test_a_host_daemon_on_ipc_is_this_machine():
    place = _placement({"acq": {}, "near": {"host": "here"}},
                       {"here": {"address": "ipc:///run/acqflow/host-1-1-abc"}})
    assert place.stream_params("src", "o", {}, {"near"}) == {"protocol": "ipc"}
    assert place.stream_params("src", "o", {"protocol": "tcp"}, {"near"}) == {"protocol": "tcp"}


def test_a_local_producer_binds_the_address_routing_to_the_consumer_host():
    place = _placement({"acq": {}, "far": {"host": "rig"}}, {"rig": {"address": "tcp://127.0.0.2:5600"}})
    params = place.stream_params("src", "o", {}, {"far"})
    assert params == {"protocol": "tcp", "interface": reachable_interface("tcp://127.0.0.2:5600")}
