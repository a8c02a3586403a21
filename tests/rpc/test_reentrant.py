"""run_lazy(): a server served while its thread waits, so processes can call back re-entrantly."""
import threading

import pytest

from acqflow.rpc import ProcessSpawner, RPCClient, RPCServer

from .remote_objects import Bouncer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def lazy_server():
    server = RPCServer()
    server.run_lazy()
    yield server
    server.close()


def test_lazy_server_and_child_call_each_other_depth_10(lazy_server, child):
    ro = child.client._import("tests.rpc.remote_objects")
    remote = ro.Bouncer("child")
    local = Bouncer("parent")
    trail = remote.bounce(10, local)       # local travels as a proxy served by run_lazy
    assert trail == ("child", "parent") * 5 + ("child",)
    assert local.max_depth == 5
    assert remote.max_depth._get_value() == 6


def test_two_children_bounce_depth_12(child):
    other = ProcessSpawner(name="bouncer2")
    try:
        a = child.client._import("tests.rpc.remote_objects").Bouncer("a")
        b = other.client._import("tests.rpc.remote_objects").Bouncer("b")
        trail = a.bounce(12, b)
        assert len(trail) == 13 and trail[:3] == ("a", "b", "a")
        assert a.max_depth._get_value() == 7 and b.max_depth._get_value() == 6
    finally:
        other.stop()


def test_local_object_sent_without_server_fails_clearly(child):
    # no server serves this thread: sending an unserializable object is an error
    out = []

    def run():
        try:
            RPCClient.get_client(child.address)._import("tests.rpc.remote_objects").Thing().echo(object())
        except Exception as exc:   # noqa: BLE001
            out.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join(20)
    assert out and "run_lazy" in str(out[0])
