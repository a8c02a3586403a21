"""The sync call fast path (acqflow/rpc/fastpath.py): a thread serving nothing waits for
its reply on its own socket; plain messages are packed by a reusable msgpack Packer."""
import datetime
import enum
import os
import signal
import threading
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acqflow.rpc import MsgpackSerializer, ProcessSpawner, RPCClient, RPCDisconnected, RPCServer
from acqflow.rpc import fastpath
from acqflow.rpc.reactor import Reactor
from acqflow.testing import examples

from .util import in_fresh_thread, wait_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def ro(child):
    """Proxy to tests.rpc.remote_objects in the child."""
    return child.client._import("tests.rpc.remote_objects")


def _count_reactor_waits(monkeypatch) -> list:
    waits: list = []
    real = Reactor.wait

    def counting(self, *args, **kwargs):
        waits.append(threading.get_ident())
        return real(self, *args, **kwargs)
    monkeypatch.setattr(Reactor, "wait", counting)
    return waits


def test_sync_calls_of_a_thread_serving_nothing_skip_the_reactor(child, monkeypatch):
    def calls():
        client = RPCClient.get_client(child.client.address)
        thing = client.import_module("tests.rpc.remote_objects").Thing()
        waits = _count_reactor_waits(monkeypatch)
        assert [thing.add(i, 1) for i in range(20)] == list(range(1, 21))
        mine = threading.get_ident()
        assert [w for w in waits if w == mine] == []
        client.close()
    in_fresh_thread(calls)


def test_a_thread_serving_a_lazy_server_keeps_serving_while_it_waits(child, monkeypatch):
    """With a server in the thread, a sync call waits through the reactor, so that the
    child's call back into this thread is served (else it would deadlock)."""
    def calls():
        server = RPCServer()
        server.run_lazy()
        client = RPCClient.get_client(child.client.address)
        try:
            thing = client.import_module("tests.rpc.remote_objects").Thing()
            waits = _count_reactor_waits(monkeypatch)
            here = []
            assert thing.call_back(here.append, 7) is None    # the child calls here.append(7)
            assert here == [7] and threading.get_ident() in waits
        finally:
            server.close()
            client.close()
        assert not Reactor.current().serves()
    in_fresh_thread(calls)


def test_pending_futures_of_another_client_keep_completing_during_sync_calls(
        ro, thread_server, monkeypatch):
    """Another client of the thread expects a reply: a sync call then waits through the
    reactor, which completes that future (and runs its callbacks) meanwhile."""
    thread_server["echo"] = lambda x: x
    other = RPCClient.get_client(thread_server.address)
    seen: list = []
    fut = other.call("echo", 5, _sync="async")
    fut.add_done_callback(lambda f: seen.append(f.result()))
    waits = _count_reactor_waits(monkeypatch)
    thing = ro.Thing()
    wait_for(lambda: thing.add(1, 1) == 2 and fut.done(), message="the other client's reply")
    assert seen == [5] and waits
    other.close()


def test_async_replies_met_during_a_sync_wait_resolve_their_futures(child, ro):
    thing = ro.Thing()
    client = child.client
    before = client.server_stats()["objects"]
    futures = [thing.make(i, _sync="async") for i in range(20)]
    assert thing.add(1, 1) == 2
    # requests are served in order: every async reply came before the sync one
    assert all(f.done() for f in futures)
    made = [f.result() for f in futures]
    assert [m.get() for m in made] == list(range(20))
    del made, futures
    wait_for(lambda: client.server_stats()["objects"] <= before,
             message="proxies returned during a sync wait released once")


def test_timeouts_shorter_and_longer_than_a_wait_step(ro):
    thing = ro.Thing()
    for timeout in (0.05, fastpath.RECV_STEP_MS / 1000 * 2.5):
        with pytest.raises(TimeoutError, match="within"):
            thing.sleep(5, _timeout=timeout)
    assert thing.add(2, 2) == 4          # the late replies were dropped


def test_sync_call_fails_when_the_server_process_dies_during_the_wait():
    proc = ProcessSpawner(name="dies-while-called")
    try:
        thing = proc.client._import("tests.rpc.remote_objects").Thing()
        assert thing.add(1, 1) == 2
        timer = threading.Timer(0.5, os.kill, (proc.pid, signal.SIGKILL))
        timer.start()
        with pytest.raises(RPCDisconnected):
            thing.sleep(30, _timeout=25)
        timer.join()
    finally:
        proc.kill()


def test_server_alone_in_its_thread_serves_and_closes_on_request():
    """run_forever waits in recv on its own socket; a JSON client takes the sync path too."""
    server = RPCServer()
    server["double"] = lambda x: 2 * x
    thread = threading.Thread(target=server.run_forever, daemon=True)
    thread.start()
    client = RPCClient(server.address, serializer="json")
    assert client.call("double", (1, 2)) == (1, 2, 1, 2)
    assert [client.call("double", i) for i in range(50)] == [2 * i for i in range(50)]
    server.request_close()           # from another thread, while it waits in recv
    thread.join(10)
    assert not thread.is_alive() and server.closed
    wait_for(client.disconnected, message="the disconnect notice")
    client.close()


# -- the reusable Packer gives the serializer's bytes, or hands over to it ----------------
class Color(enum.IntEnum):
    RED = 1


class Name(str):
    pass


plain = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(),
              st.text(max_size=8), st.binary(max_size=16),
              st.sampled_from([Color.RED, Name("n"), np.float32(1.5), np.int64(-3),
                               np.arange(4.0), datetime.datetime(2026, 1, 2, 3, 4, 5),
                               bytearray(b"ab"), frozenset({1, 2})])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.one_of(st.text(max_size=4), st.integers(-9, 9)),
                                            inner, max_size=3)),
    max_leaves=12)


@settings(max_examples=examples(400), deadline=None)
@given(value=plain)
def test_packer_frames_equal_the_serializers(value):
    ser = MsgpackSerializer()
    msg = {"action": "return", "req_id": 3, "rval": value, "error": None}
    expected = ser.dumps(dict(msg))
    assert fastpath.encode_reply(fastpath.new_packer("msgpack"), ser, dict(msg), None) == expected
    client = types.SimpleNamespace(_packer=fastpath.new_packer("msgpack"), _ser_name=b"msgpack",
                                   serializer=ser)
    assert fastpath.encode(client, dict(msg)) == [b"msgpack", *expected]
