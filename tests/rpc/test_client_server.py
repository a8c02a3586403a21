"""Calls, attributes, imports, return types, futures and errors against a real child process."""
import concurrent.futures
import datetime
import re
import threading

import numpy as np
import pytest

from acqflow.rpc import ObjectProxy, RemoteCallError, RPCClient, RPCDisconnected, RPCServer
from acqflow.testing import wait_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def ro(child):
    """Proxy to tests.rpc.remote_objects in the child."""
    return child.client._import("tests.rpc.remote_objects")


def test_import_call_and_ping(child, ro):
    assert child.client.ping() == "pong"
    os_ = child.client._import("os")
    assert os_.getpid() == child.pid
    thing = ro.Thing(3)
    assert isinstance(thing, ObjectProxy)
    assert thing.add(2, b=5) == 7
    assert thing.x._get_value() == 3


def test_basic_values_come_back_by_value(ro):
    thing = ro.Thing()
    values = [None, True, 3, 2.5, "text", b"\x00bytes", [1, [2]], {"k": (1, 2)}, (1, "a"),
              {1, 2}, frozenset({3}), 1 + 2j, datetime.datetime(2024, 5, 6, 7, 8, 9, 10),
              datetime.date(2024, 1, 2), datetime.timedelta(seconds=3.5),
              np.float32(1.5), np.arange(10, dtype=np.int16)]
    for v in values:
        back = thing.echo(v)
        if isinstance(v, np.ndarray):
            assert back.dtype == v.dtype and np.array_equal(back, v)
        else:
            assert back == v and type(back) is type(v), v


def test_other_objects_come_back_as_proxies(ro):
    thing = ro.Thing(2)
    child = thing.same_child()
    assert isinstance(child, ObjectProxy)
    assert child.get() == 20
    made = thing.make(5)
    assert made.value._get_value() == 5


def test_deferred_attribute_chains(child, ro):
    thing = ro.Thing(4)
    attr = thing.child.value          # no request yet
    assert isinstance(attr, ObjectProxy)
    assert attr._get_value() == 40
    assert thing.child.get() == 40
    thing.child.value = 7             # remote setattr
    assert thing.child.get() == 7
    assert thing.items["a"] == 1
    thing.items["b"] = 2
    assert len(thing.items) == 2 and "b" in thing.items
    del thing.items["a"]
    assert thing.items._get_value() == {"b": 2}


def test_return_types(ro):
    thing = ro.Thing()
    p = thing.add(1, 2, _return_type="proxy")
    assert isinstance(p, ObjectProxy) and p._get_value() == 3
    assert thing.add(1, 2, _return_type="auto") == 3
    with pytest.raises(RemoteCallError) as info:
        thing.make(1, _return_type="value")
    assert "by value" in str(info.value)
    with pytest.raises(ValueError):
        thing.add(1, _return_type="bogus")
    with pytest.raises(ValueError):
        thing.add(1, _sync="bogus")


def test_async_calls_return_futures(ro):
    thing = ro.Thing()
    futures = [thing.add(i, 1, _sync="async") for i in range(50)]
    assert all(isinstance(f, concurrent.futures.Future) for f in futures)
    assert [f.result(timeout=10) for f in futures] == list(range(1, 51))
    done, _ = concurrent.futures.wait([thing.add(1, 1, _sync="async")], timeout=0)
    fut = thing.fail("async boom", _sync="async")
    with pytest.raises(RemoteCallError, match="async boom"):
        fut.result()
    assert isinstance(fut.exception(), RemoteCallError)
    seen = []
    fut = thing.add(2, 2, _sync="async")
    fut.add_done_callback(lambda f: seen.append(f.result()))
    fut.result()
    assert seen == [4]


def test_sync_off_sends_without_reply(ro):
    thing = ro.Thing()
    assert thing.record(1, _sync="off") is None
    assert thing.record(2, _sync="off") is None
    assert thing.log._get_value() == [1, 2]       # requests are handled in order
    assert thing.fail(_sync="off") is None        # errors are only logged remotely


def test_remote_exception_carries_type_and_traceback(ro):
    thing = ro.Thing()
    with pytest.raises(RemoteCallError) as info:
        thing.fail("kaput")
    err = info.value
    assert err.remote_type == "ValueError"
    assert err.remote_message == "kaput"
    assert "remote_objects.py" in err.remote_traceback and "def fail" not in err.remote_type
    assert "raise ValueError(message)" in err.remote_traceback
    assert "kaput" in str(err)
    with pytest.raises(RemoteCallError) as info:
        thing.no_such_method()
    assert info.value.remote_type == "AttributeError"
    with pytest.raises(RemoteCallError, match="ModuleNotFoundError|No module"):
        RPCClient.get_client(thing._address)._import("no_such_module_for_rpc")


def test_timeout_raises(ro):
    thing = ro.Thing()
    with pytest.raises(TimeoutError):
        thing.sleep(2, _timeout=0.2)
    fut = thing.sleep(0.5, _sync="async")
    with pytest.raises(TimeoutError):
        fut.result(timeout=0.05)
    assert fut.result(timeout=10) == 0.5
    assert thing.add(1, 1) == 2      # the late reply to the timed-out call was dropped


def test_proxies_equal_and_hashable(ro):
    thing = ro.Thing()
    a, b = thing.same_child(), thing.same_child()
    assert a == b and hash(a) == hash(b)
    assert a != thing.make(1)
    assert a.get != a and a.get == b.get
    assert len({a, b, a.get}) == 2
    assert a != 3


def test_published_objects_and_call_by_name(thread_server, child):
    # a client in this process to a server in this process resolves proxies locally
    thread_server["config"] = {"rate": 10}
    thread_server["thing"] = _Local()
    client = RPCClient.get_client(thread_server.address)
    assert client.get("config", _return_type="auto") == {"rate": 10}
    assert client.call("thing.double", 21) == 42
    assert client["thing"].double(2) == 4            # proxy resolved to the local object
    with pytest.raises(RemoteCallError, match="NameError"):
        client.call("missing.double", 1)
    client.close()


class _Local:
    def double(self, x):
        return 2 * x


def test_one_client_per_thread_and_address(child):
    c1 = RPCClient.get_client(child.address)
    with pytest.raises(KeyError, match=re.escape(f"exists for this address ({child.address})")):
        RPCClient(child.address)       # pyacq's rule: one client per (thread, address)
    assert RPCClient.get_client(child.address) is c1
    others = []

    def other():
        c = RPCClient.get_client(child.address)
        others.append((c, c.ping()))
        c.close()

    t = threading.Thread(target=other)
    t.start()
    t.join(20)
    assert others and others[0][0] is not c1 and others[0][1] == "pong"


def test_proxy_used_from_another_thread(ro):
    thing = ro.Thing()
    results = []
    t = threading.Thread(target=lambda: results.append(thing.add(20, 22)))
    t.start()
    t.join(20)
    assert results == [42]


def test_transfer_makes_remote_copy(child):
    p = child.client.transfer([1, 2, 3])
    assert isinstance(p, ObjectProxy)
    p.append(4)
    assert p._get_value() == [1, 2, 3, 4]


def test_close_server_tells_clients(tmp_path):
    from acqflow.rpc import ProcessSpawner
    from .util import wait_for
    proc = ProcessSpawner(name="closing")
    client = proc.client
    assert not client.disconnected()
    client.close_server()
    wait_for(client.disconnected, message="disconnect notice")
    with pytest.raises(RPCDisconnected):
        client.ping()
    assert proc.wait(10) == 0


def test_in_process_server_closed_by_other_thread():
    server = RPCServer()
    t = threading.Thread(target=server.run_forever)
    t.start()
    client = RPCClient.get_client(server.address)
    assert client.ping() == "pong"
    server.close()
    t.join(10)
    assert not t.is_alive() and server.closed
    from .util import wait_for
    wait_for(client.disconnected)
    client.close()


def test_a_new_server_at_a_reused_address_gets_a_fresh_client():
    """Regression: a client kept for a closed server was reused for a new server that
    got the same port, so every call raised RPCDisconnected ('server ... closed')."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    def bind():
        try:
            return RPCServer(address)
        except Exception:       # the previous server's socket is still being released
            return None
    for value in (1, 2):
        server = wait_for(bind, timeout=10, message=f"a server to bind {address} again")
        server["value"] = lambda value=value: value
        thread = threading.Thread(target=server.run_forever, daemon=True)
        thread.start()
        client = RPCClient.get_client(address)
        assert client.call("value") == value
        server.close()
        thread.join(10)
        wait_for(client.disconnected, timeout=10, message="the client to hear the server close")
