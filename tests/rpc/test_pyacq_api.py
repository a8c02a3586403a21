"""acqflow.rpc names that follow pyacq's API (issue 12): each in acqflow's own terms."""
import threading

import numpy as np
import pytest

from acqflow.rpc import (JsonSerializer, MsgpackSerializer, ObjectProxy, RemoteCallError,
                         RPCClient, RPCDisconnected, RPCServer)

from .util import wait_for

pytestmark = pytest.mark.timeout(120)


class Counter:
    alive = 0

    def __init__(self):
        Counter.alive += 1
        self.n = 3

    def __del__(self):
        Counter.alive -= 1


def test_server_publishes_itself_and_client_item_access(thread_server):
    client = RPCClient.get_client(thread_server.address)
    srv = client["self"]
    assert isinstance(srv, ObjectProxy) and srv.address == thread_server.address
    client["arr"] = np.arange(4)                      # publishes on the server
    assert np.array_equal(thread_server["arr"], np.arange(4))
    assert np.array_equal(client["arr"], np.arange(4))  # by value: a basic value
    assert isinstance(client.get("arr"), ObjectProxy)   # get() keeps giving a proxy
    # the server is registered in its own thread, not the caller's (which may hold another
    # test's server: this checks only that it is not this one)
    assert RPCServer.get_server() is not thread_server and thread_server.running()
    client.close()


def test_proxy_operators_and_pyacq_names(thread_server):
    thread_server["Counter"] = Counter
    client = RPCClient.get_client(thread_server.address)
    c = client["Counter"]()
    assert c._type_str.endswith("Counter'>") and c.n._attributes == ("n",)
    assert c.n == 3 and c.n != 4 and c.n < 5 and c.n + 1 == 4 and 1 + c.n == 4
    assert c.n._undefer() == 3 and c._undefer() is c
    assert c == c and c != client["Counter"] and hash(c) == hash(c)
    c._set_proxy_options(defer_getattr=False)
    assert c.n == 3 and type(c.n) is int                 # fetched at once
    assert wait_for(lambda: Counter.alive == 1, timeout=10)
    c._delete()                                          # our share goes back now
    client.server_stats()
    assert Counter.alive == 0
    with pytest.raises(RemoteCallError, match="does not exist") as err:
        c.n._get_value()
    assert err.value.type_str == "LookupError"
    client.default_proxy_options["defer_getattr"] = False
    assert type(client["Counter"]().n) is int
    client.close()


def test_close_server_and_disconnected(thread_server):
    other = []
    t = threading.Thread(target=lambda: other.append(RPCClient.get_client(thread_server.address).ping()))
    t.start()
    t.join(30)
    client = RPCClient.get_client(thread_server.address)
    assert client.close_server() is True
    assert client.disconnected() and client.close_server() is True
    with pytest.raises(RuntimeError):                   # RPCDisconnected is a RuntimeError
        client.ping()
    assert issubclass(RPCDisconnected, ConnectionError)


def test_disconnected_notices_a_dead_child():
    from acqflow.rpc import ProcessSpawner
    p = ProcessSpawner(name="dies")
    assert p.client.disconnected() is False
    p.client["self"]._closed = True          # the server loop ends without telling anyone
    assert wait_for(lambda: p.client.disconnected(), timeout=30)
    p.wait(30)


@pytest.mark.parametrize("ser", [MsgpackSerializer(), JsonSerializer()])
def test_serializer_round_trip_of_dumps_output(ser, child):
    big = np.arange(100000.0)
    value = {"big": big, "t": (1, 2), "p": child.client["self"]}
    back = ser.loads(ser.dumps(value))
    assert np.array_equal(back["big"], big) and back["t"] == (1, 2) and back["p"] == value["p"]
    assert ser.type == ser.name
