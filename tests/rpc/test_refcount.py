"""Remote reference counting: objects are freed when the last proxy goes; proxies travel."""
import gc

import pytest

from acqflow.rpc import ObjectProxy, ProcessSpawner, refs

from .util import wait_for

pytestmark = pytest.mark.timeout(120)


def _objects(client) -> int:
    gc.collect()
    return client.server_stats()["objects"]


def test_no_leak_over_10000_proxies(child):
    client = child.client
    ro = client._import("tests.rpc.remote_objects")
    thing = ro.Thing()
    base = _objects(client)
    for i in range(10_000):
        p = thing.make(i)              # a new remote object and proxy each time
        if i % 2000 == 0:
            assert p.value._get_value() == i
    del p
    assert _objects(client) == base
    # the same object proxied 10,000 times: one table entry, freed at the end
    for _ in range(10_000):
        p = thing.same_child()
    assert _objects(client) == base + 1
    del p
    assert _objects(client) == base


def test_proxy_weight_split_and_merge(child):
    ro = child.client._import("tests.rpc.remote_objects")
    a = ro.Thing().same_child()
    b = a._derive()          # same RemoteRef
    assert a._ref is b._ref
    w = a._ref.weight
    wire = a._wire()
    assert wire["weight"] + a._ref.weight == w and wire["weight"] > 0
    again = ObjectProxy._from_wire(wire)       # coming back merges into the same ref
    assert again._ref is a._ref and a._ref.weight == w


def test_weight_exhaustion_asks_owner(child):
    ro = child.client._import("tests.rpc.remote_objects")
    a = ro.Thing().same_child()
    a._ref.weight = 1
    wire = a._wire()
    assert wire["weight"] >= 1 and a._ref.weight >= 1
    ObjectProxy._from_wire(wire)
    assert a.get() == 10


def test_proxy_passed_to_third_process_talks_to_owner(child):
    third = ProcessSpawner(name="third")
    try:
        ro_owner = child.client._import("tests.rpc.remote_objects")
        ro_third = third.client._import("tests.rpc.remote_objects")
        owned = ro_owner.Thing(7)
        base = _objects(child.client)
        obj = owned.make(99)
        helper = ro_third.Thing()
        # the third process calls the owner directly through the forwarded proxy
        assert helper.call_back(obj.get) == 99
        assert helper.get_value_of(obj.value) == 99
        # the third process keeps a proxy after we drop ours
        keeper = third.client.transfer([])
        keeper.append(obj)
        del obj
        gc.collect()
        assert _objects(child.client) == base + 1
        assert keeper[0].get() == 99     # keeper[0] comes back as a proxy to the owner's object
        keeper.clear()
        third.client.call(keeper.clear)  # a round trip so the third process ran its GC
        gc_third = third.client._import("gc")
        gc_third.collect()
        # the third process releases with its next message to the owner
        helper.call_back(owned.add, 1, 1)
        wait_for(lambda: _objects(child.client) == base, message="owner freed the object")
    finally:
        third.stop()


def test_proxy_back_to_owner_is_the_real_object(child):
    ro = child.client._import("tests.rpc.remote_objects")
    thing = ro.Thing()
    obj = thing.make(3)
    assert thing.is_local(obj) is True          # resolved to the real object at the owner
    assert thing.call_back(obj.get) == 3


def test_releases_are_flushed_by_idle_loop(child):
    assert refs.WEIGHT > 1 << 16
    ro = child.client._import("tests.rpc.remote_objects")
    base = _objects(child.client)
    p = ro.Thing().make(1)
    del p
    assert _objects(child.client) == base
