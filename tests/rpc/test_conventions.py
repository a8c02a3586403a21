"""The type table, get_client/get_value and Future.cancel."""
import concurrent.futures
import datetime
import os
import threading

import pytest

from acqflow.rpc import (JsonSerializer, MsgpackSerializer, ObjectProxy, RemoteCallError,
                         RPCClient, RPCType, SerializationError, get_client,
                         get_value, register_type, types)
from acqflow.rpc.serializer import EXT

pytestmark = pytest.mark.timeout(60)


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


register_type(RPCType(name="test_point", code=120, tag="test_point", types=(Point,),
                      fields=("x", "y"), encode=lambda p: (p.x, p.y), decode=Point))


@pytest.mark.parametrize("ser", [MsgpackSerializer(), JsonSerializer()], ids=["msgpack", "json"])
def test_a_registered_type_round_trips_in_both_serializers(ser):
    value = {"p": Point(1, (2, datetime.date(2020, 1, 2)))}
    assert ser.loads(ser.dumps(value)) == value


def test_registered_type_on_the_wire():
    assert JsonSerializer().dumps(Point(1, 2)) == [b'{"__type__":"test_point","x":1,"y":2}']
    body = MsgpackSerializer().dumps(Point(1, 2))[0]
    assert body[:3] == b"\xc7\x03\x78"           # ext 8: 3 bytes of code 120: [1, 2]


def test_the_table_refuses_taken_codes_and_tags():
    with pytest.raises(ValueError, match="code 3"):
        register_type(RPCType("mine", 3, "mine", (Point,), ("x",), lambda p: (p.x,), Point))
    with pytest.raises(ValueError, match="tag 'tuple'"):
        register_type(RPCType("mine", 121, "tuple", (Point,), ("items",), lambda p: ([],),
                              Point))
    with pytest.raises(ValueError, match="code 8"):    # the proxy's
        register_type(RPCType("mine", 8, None, (Point,), ("x",), lambda p: (p.x,), Point))


def test_ext_codes_come_from_the_table():
    for t in types.TYPES:
        if t.code is not None and t.code < 64:
            assert EXT[t.name] == t.code
    assert EXT["proxy"] == 8 and EXT["ndarray_frame"] == 2


def test_malformed_registered_value_is_a_serialization_error():
    with pytest.raises(SerializationError, match="test_point"):
        JsonSerializer().loads(b'{"__type__":"test_point","x":1}')


def test_get_client_is_the_threads_client(thread_server):
    client = get_client(thread_server.address)
    assert get_client(thread_server.address) is client
    assert RPCClient.get_client(thread_server.address) is client
    with pytest.raises(KeyError, match="Use RPCClient.get_client"):
        RPCClient(thread_server.address)      # pyacq's rule: the thread has one already
    other = []
    t = threading.Thread(target=lambda: other.append(get_client(thread_server.address)))
    t.start()
    t.join(10)
    assert other and other[0] is not client
    assert client.ping() == "pong"


def test_get_value(thread_server):
    client = get_client(thread_server.address)
    remote = client.transfer([3, 1, 2])
    assert isinstance(remote, ObjectProxy)
    remote.sort()
    assert get_value(remote) == [1, 2, 3] == remote._get_value()
    assert get_value(5) == 5


def test_future_cancel_uses_the_public_api(thread_server):
    client = get_client(thread_server.address)
    time = client._import("time")
    fut = time.sleep(0.2, _sync="async")
    assert fut.cancel()
    assert fut.cancelled() and fut.done()
    with pytest.raises(concurrent.futures.CancelledError):
        fut.result()
    done = time.monotonic(_sync="async")
    assert isinstance(done.result(), float)
    assert not done.cancel()                  # too late: the reply came
    assert client.ping() == "pong"            # the cancelled reply is dropped quietly


def test_rpc_client_is_a_new_client_only_when_the_thread_has_none(thread_server):
    client = RPCClient(thread_server.address)       # none yet: a new one, the thread's
    assert get_client(thread_server.address) is client
    with pytest.raises(KeyError) as err:
        RPCClient(thread_server.address)
    assert thread_server.address in str(err.value) and "\n" not in str(err.value)
    client.close()                                   # closed: the thread has none again
    again = RPCClient(thread_server.address)
    assert again is not client and get_client(thread_server.address) is again
    assert again.ping() == "pong"
    again.close()


def test_import_module_is_pyacqs_import_under_a_public_name(child):
    ros = child.client.import_module("os")
    assert ros.getpid() == child.client._import("os").getpid() != os.getpid()
    with pytest.raises(RemoteCallError, match="no_such_module_for_rpc"):
        child.client.import_module("no_such_module_for_rpc", timeout=30)
