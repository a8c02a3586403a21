"""The lean path of plain sync calls (fastpath.serve_plain on the server, request_plain and
the plain reply decoding on the client): same replies as the general path, which keeps
everything unusual."""
import time

import msgpack
import pytest
import zmq

from acqflow.rpc import RemoteCallError, RPCClient, RPCServer, fastpath, get_value
from acqflow.rpc.proxy import ObjectProxy

from .remote_objects import Thing
from .util import in_fresh_thread as run_in_fresh_thread

pytestmark = pytest.mark.timeout(60)


# -- end to end, against a child serving with run_forever (serve_one) ------------------
@pytest.fixture
def in_fresh_thread(child):
    """Runs the test's calls in a new thread, with its own client: a thread that serves
    nothing (earlier tests may leave the main thread serving, which takes the general
    path).  ``in_fresh_thread(body)`` calls ``body(remote_objects_proxy)`` there; re-raises its errors."""
    def run(body):
        def calls():
            client = RPCClient.get_client(child.client.address)
            try:
                return body(client.import_module("tests.rpc.remote_objects"))
            finally:
                client.close()
        return run_in_fresh_thread(calls)
    return run


def test_an_exception_raised_by_the_call_comes_back_and_the_server_goes_on(in_fresh_thread):
    def calls(ro):
        thing = ro.Thing()
        with pytest.raises(RemoteCallError) as info:
            thing.fail("lean boom")
        assert info.value.remote_type == "ValueError" and "lean boom" in str(info.value)
        assert "fail" in info.value.remote_traceback
        with pytest.raises(RemoteCallError, match="AttributeError"):
            thing.no_such_method()
        assert thing.add(2, 3) == 5
    in_fresh_thread(calls)


def test_a_call_that_raises_runs_once(in_fresh_thread):
    def calls(ro):
        thing = ro.Thing()
        with pytest.raises(RemoteCallError):
            thing.record("x", "too many")        # TypeError: record() takes 2 arguments
        thing.record("y")
        assert get_value(thing.log) == ["y"]
    in_fresh_thread(calls)


def test_proxy_and_tuple_arguments_take_the_general_path(in_fresh_thread, child):
    def calls(ro):
        thing, other = ro.Thing(), ro.Thing(4)
        assert thing.is_local(other.child) is True           # resolved to the object itself
        assert thing.call_back(other.add, 1, 2) == 3
        assert thing.echo((1, 2)) == (1, 2)                  # a tuple: the type table
        assert thing.add(1, b=2) == 3                        # keyword arguments
    in_fresh_thread(calls)


def test_a_deleted_object_is_named_in_the_error(in_fresh_thread):
    def calls(ro):
        made = ro.Thing().make(5)
        get = made.get
        assert get() == 5
        made._delete()
        with pytest.raises(RemoteCallError, match="LookupError.*does not exist"):
            get()
    in_fresh_thread(calls)


def test_results_that_need_a_proxy_or_the_type_table(in_fresh_thread):
    def calls(ro):
        thing = ro.Thing()
        made = thing.make(7)                 # an unserializable result: a proxy
        assert isinstance(made, ObjectProxy) and made.get() == 7
        assert thing.echo(2**70) == 2**70    # a big int
        assert thing.x == 1 and isinstance(thing.child, ObjectProxy)   # deferred getattr
        assert get_value(thing.items) == {"a": 1}
    in_fresh_thread(calls)


def test_async_calls_interleaved_with_sync_calls(in_fresh_thread):
    def calls(ro):
        thing = ro.Thing()
        futures = [thing.add(i, 100, _sync="async") for i in range(20)]
        assert [thing.add(i, 1) for i in range(20)] == list(range(1, 21))
        futures += [thing.add(i, 200, _sync="async") for i in range(5)]
        assert thing.sleep(0.01) == 0.01
        assert [f.result(10) for f in futures] == [i + 100 for i in range(20)] + \
            [i + 200 for i in range(5)]
        thing.record(1, _sync="off")
        assert thing.add(1, 1) == 2 and get_value(thing.log) == [1]
    in_fresh_thread(calls)


# -- the server's lean path, driven by hand ------------------------------------------------
@pytest.fixture
def server_and_dealer():
    server = RPCServer()
    dealer = zmq.Context.instance().socket(zmq.DEALER)
    dealer.linger = 0
    dealer.rcvtimeo = 10000
    dealer.connect(server.address)
    yield server, dealer
    dealer.close()
    server.close()


def _exchange(server, dealer, request):
    """Send ``request`` (a map, msgpack) and serve it with serve_one; the decoded reply
    and whether serve_plain took it."""
    taken = []
    real = fastpath.serve_plain

    def spy(*args):
        taken.append(real(*args))
        return taken[-1]
    fastpath.serve_plain = spy
    try:
        dealer.send_multipart([b"msgpack", msgpack.packb(request, use_bin_type=True)])
        deadline = time.monotonic() + 10
        while not fastpath.serve_one(server):
            assert time.monotonic() < deadline, "the request never came"
    finally:
        fastpath.serve_plain = real
    ser, body, *_ = dealer.recv_multipart()
    assert ser == b"msgpack"
    return server_reply(body), taken == [True]


def server_reply(body):
    return msgpack.unpackb(body, raw=False, strict_map_key=False, ext_hook=msgpack.ExtType)


def _call(obj_id, *args, action="call", attrs=("add",), req_id=1, **extra):
    msg = {"action": action, "obj": obj_id, "attrs": list(attrs), "args": list(args),
           "kwargs": {}, "req_id": req_id, "sync": "sync", "return_type": "auto"}
    msg.update(extra)
    return msg


def test_the_server_takes_plain_calls_of_known_clients_only(server_and_dealer):
    server, dealer = server_and_dealer
    thing = Thing()
    obj_id = server.proxy_wire(thing)["obj_id"]
    reply, lean = _exchange(server, dealer, _call(obj_id, 1, 2, req_id=1))
    assert not lean and reply == {"action": "return", "req_id": 1, "rval": 3, "error": None}
    reply, lean = _exchange(server, dealer, _call(obj_id, 1, 2, req_id=2))
    assert lean and reply == {"action": "return", "req_id": 2, "rval": 3, "error": None}
    reply, lean = _exchange(server, dealer, _call(obj_id, action="getattr", attrs=["x"],
                                                   req_id=3))
    assert lean and reply["rval"] == 1


@pytest.mark.parametrize("change", [
    {"sync": "async"}, {"return_type": "value"}, {"return_type": "proxy"},
    {"attrs": ["add", 3]}, {"args": "12"}, {"kwargs": {1: 2}}, {"obj": "1"}, {"obj": 999},
    {"action": "setattr"},
])
def test_unusual_requests_take_the_general_path(server_and_dealer, change):
    server, dealer = server_and_dealer
    obj_id = server.proxy_wire(Thing())["obj_id"]
    _exchange(server, dealer, _call(obj_id, 1, 2))                  # now a known client
    request = _call(obj_id, 1, 2, req_id=9)
    request.update(change)
    general = RPCServer()
    try:   # the same request through the general path of a twin server: same reply
        twin_id = general.proxy_wire(Thing())["obj_id"]
        assert twin_id == obj_id
        frames = [b"id", b"msgpack", msgpack.packb(request, use_bin_type=True)]
        sent = []
        general._reply = lambda ident, ser, msg: sent.append(msg)
        general._handle(frames)
    finally:
        general.close()
    reply, lean = _exchange(server, dealer, request)
    assert not lean
    assert reply["req_id"] == 9 and reply["action"] == sent[0]["action"]
    if sent[0]["error"]:
        assert reply["error"]["type"] == sent[0]["error"]["type"]
    else:
        assert reply["error"] is None


def test_the_lean_server_replies_exceptions_and_proxies_as_the_general_path(server_and_dealer):
    server, dealer = server_and_dealer
    thing = Thing()
    obj_id = server.proxy_wire(thing)["obj_id"]
    _exchange(server, dealer, _call(obj_id, 1, 2))
    reply, lean = _exchange(server, dealer, _call(obj_id, "no", attrs=["fail"], req_id=4))
    assert lean and reply["rval"] is None and reply["error"]["type"] == "ValueError"
    assert reply["error"]["message"] == "no"
    reply, lean = _exchange(server, dealer, _call(obj_id, 5, attrs=["make"], req_id=5))
    assert lean and reply["error"] is None
    assert isinstance(reply["rval"], msgpack.ExtType)                # a proxy
    assert server.n_objects == 2
    reply, lean = _exchange(server, dealer, _call(obj_id, 6, attrs=["record"], req_id=6))
    assert lean and thing.log == [6]


def test_the_client_sends_plain_sync_calls_without_the_general_path(in_fresh_thread, monkeypatch):
    def calls(ro):
        thing = ro.Thing()
        general = []
        real = RPCClient._request

        def spy(self, action, *args):
            general.append(action)
            return real(self, action, *args)
        monkeypatch.setattr(RPCClient, "_request", spy)
        assert thing.add(1, 2) == 3 and thing.x == 1
        assert general == []
        assert thing.add(1, 2, _sync="async").result(10) == 3
        assert get_value(thing.x) == 1
        assert general == ["call", "getattr"]
    in_fresh_thread(calls)
