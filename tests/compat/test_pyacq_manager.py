"""pyacq's Manager, Host, NodeGroup and Node API on acqflow (docs/pyacq.md, Manager section)."""
import pytest

import acqflow
import acqflow.manager
from acqflow.rpc import RemoteCallError


@pytest.fixture
def local_manager():
    from pyacq import create_manager

    from acqflow.rpc import RPCServer
    before = RPCServer.get_server()
    man = create_manager("local", auto_close_at_exit=False)
    yield man
    man.close()
    lazy = RPCServer.get_server()
    if lazy is not None and lazy is not before:    # the one create_manager started to serve
        lazy.close()                               # this thread: a later test expects none


def test_create_manager_refuses_an_unknown_mode():
    from pyacq import create_manager
    with pytest.raises(ValueError, match="'remote'"):
        create_manager("remote")


def test_local_manager_groups_on_the_default_host(local_manager):
    man = local_manager
    from pyacq.core import Manager
    assert isinstance(man, Manager) and man.list_nodegroups() == [] and man.list_hosts() == []
    ng = man.create_nodegroup(qt=False)                 # auto-named, no Qt
    assert man.list_nodegroups() == [ng]
    assert man.nodegroups == {"nodegroup_0": ng}
    with pytest.raises(KeyError, match="nodegroup_0"):
        man.create_nodegroup("nodegroup_0")


def test_qt_group_runs_a_qt_event_loop_and_hosts_widgets(local_manager):
    ng = local_manager.create_nodegroup("gui")            # qt=True by default, as pyacq
    node = ng.create_node("_MyTestNodeQWidget", name="w")
    node.configure()
    node.initialize()
    node.show()
    assert node.isVisible() is True
    rspawner = local_manager.default_host.spawners[0]
    rqt = rspawner.client._import("acqflow.rpc.qtserver")
    assert rqt.in_gui_thread() is True                    # calls run in the group's GUI thread
    node.close()


def test_get_host_by_address_and_groups_there():
    from pyacq import create_manager
    from pyacq.core.host import Host
    man = create_manager("rpc", auto_close_at_exit=False)
    proc, host = Host.spawn("remote-host")
    try:
        addr = proc.client.address
        h = man.get_host(addr)
        assert man.get_host(addr) == h and man.list_hosts() == [h] and h == host
        ng = man.create_nodegroup("on-host", host=addr, qt=False)   # an address works too
        assert man.list_nodegroups() == [ng]
        assert len(host.spawners) == 1
        man.close()
        assert man.list_nodegroups() == []
    finally:
        host.close_all_nodegroups()
        proc.stop()


def test_get_host_without_a_host_is_a_clear_error(local_manager):
    from acqflow.rpc import RPCServer
    server = RPCServer()       # serves nothing named 'host'
    server.run_lazy()
    with pytest.raises(ValueError, match="found no Host"):
        local_manager.get_host(server.address)
    server.close()


def test_nodegroup_methods(local_manager):
    ng = local_manager.create_nodegroup("g", qt=False)
    ng.register_node_type_from_module("pyacq.core.tests.fakenodes", "NoneRegisteredClass")
    assert "NoneRegisteredClass" in ng.list_node_types()
    a = ng.create_node("NoneRegisteredClass", name="a")
    b = ng.create_node("_MyTestNode", "b")                 # positional arguments reach the class
    assert ng.list_nodes() == [a, b] and b.name._get_value() == "b"
    for n in (a, b):
        n.configure()
        n.initialize()
    assert ng.any_node_running() is False
    ng.start_all_nodes()
    assert ng.any_node_running() is True
    with pytest.raises(RemoteCallError, match="running"):
        ng.remove_node(a)
    ng.stop_all_nodes()
    assert ng.any_node_running() is False
    ng.remove_node(a)
    assert ng.list_nodes() == [b]
    with pytest.raises(RemoteCallError, match="unknown node type"):
        ng.create_node("NoSuchNode")


def test_nodegroup_close_ends_its_process(local_manager):
    ng = local_manager.create_nodegroup("closing", qt=False)
    proc = local_manager.default_host._children["closing"]
    ng.close()
    assert proc.wait(30) == 0


def test_compat_host_is_an_acqflow_host_daemon():
    """acqflow's HostClient (what acqflow.Manager uses) spawns through a pyacq Host."""
    from pyacq.core.host import Host
    from acqflow.rpc.hostdaemon import HostClient
    proc, host = Host.spawn("daemon-host")
    try:
        client = HostClient(proc.client.address)
        child = client.spawn("plain", qt=False)
        assert child.client._import("pyacq").installed() is True
        assert [c["name"] for c in client.list()] == ["plain"]
        child.stop()
    finally:
        proc.stop()


def test_node_life_cycle_is_pyacqs():
    from pyacq import Node
    from pyacq.core.node import NodeStateError

    class Counter(Node):
        _output_specs = {"out": {}}

        def _configure(self, gain=1):
            self.gain = gain

    n = Counter(name="c")
    assert (n.configured(), n.initialized(), n.running(), n.closed()) == (False,) * 4
    n.initialize()                                        # before configure(), as pyacq allows
    with pytest.raises(NodeStateError, match="not configured"):
        n.start()
    n.configure(gain=2)
    n.configure(gain=3)                                   # again after initialize()
    assert n.gain == 3 and n.state == "initialized"
    n.start()
    with pytest.raises(NodeStateError, match="running"):
        n.configure(gain=4)
    n.stop()
    n.close()
    assert n.closed() and not n.configured() and isinstance(n, acqflow.Node)


def test_widget_node_is_a_qwidget():
    from pyqtgraph.Qt import QtWidgets
    from acqflow.viewers.base import get_app
    get_app()
    from pyacq import WidgetNode
    from pyacq.core.node import _MyTestNodeQWidget
    w = _MyTestNodeQWidget(name="w")
    assert isinstance(w, WidgetNode) and isinstance(w, QtWidgets.QWidget)
    w.configure()
    w.initialize()
    w.start()
    w.close()                                             # stops, closes the node and the widget
    assert w.closed() and not w.isVisible()


def test_manager_close_reaps_its_groups_and_accepts_pyacq_spawn_options(local_manager):
    ng = local_manager.create_nodegroup("reaped", qt=False, log_addr=None, log_level=10)
    proc = local_manager.default_host._children["reaped"]
    assert ng.describe()["name"] == "reaped"               # acqflow's NodeGroup underneath
    local_manager.close()
    assert proc.exit_code is not None and local_manager.list_nodegroups() == []


def test_disconnect_host(local_manager):
    from pyacq.core.host import Host
    proc, host = Host.spawn("to-forget")
    try:
        h = local_manager.get_host(proc.client.address)
        local_manager.create_nodegroup("there", host=h, qt=False)
        local_manager.disconnect_host(h)
        assert local_manager.list_hosts() == [] and len(host.spawners) == 0
        # regression: the closed group stayed listed, and closing the Manager then waited 30 s
        # for it to answer
        assert local_manager.list_nodegroups() == []
    finally:
        proc.stop()


def test_node_names_default_to_the_class_and_stay_unique_in_a_group():
    from pyacq.core import NodeGroup
    from pyacq.core.node import _MyTestNode
    assert _MyTestNode().name == "_MyTestNode"
    group = NodeGroup(name="g")
    a, b = group.create_node("_MyTestNode"), group.create_node("_MyTestNode")
    assert list(group.nodes) == ["_MyTestNode", "_MyTestNode#2"] and group.list_nodes() == [a, b]
    group.remove_node("_MyTestNode#2")
    assert group.list_nodes() == [a]


def test_registering_a_name_twice_with_another_class_is_refused():
    from pyacq import Node, register_node_type

    class _MyTestNode(Node):
        pass

    with pytest.raises(ValueError, match="_MyTestNode"):
        register_node_type(_MyTestNode)


def test_a_host_without_the_aliases_still_gives_its_groups_pyacq():
    import os
    import acqflow.compat.pyacq as compat
    from acqflow.rpc import ProcessSpawner
    env = {k: v for k, v in os.environ.items() if k not in (compat.ENV_FLAG, compat.CHILD_IMPORTS)}
    with ProcessSpawner(name="bare-host", env=env) as proc:
        assert proc.client._import("acqflow.compat.pyacq").installed() is False
        host = proc.client._import("acqflow.compat.pyacq.core.host").Host("bare")
        ng = host.create_nodegroup("bare-group", qt=False)
        assert ng.create_node("_MyTestNode", name="n").name._get_value() == "n"
        child = host.spawners[0]
        assert child.client._import("pyacq").installed() is True
        host.close_all_nodegroups()


@pytest.mark.parametrize("auto_close", [True, False])
def test_auto_close_at_exit_registers_the_close(auto_close):
    import atexit
    from pyacq import create_manager
    before = atexit._ncallbacks()
    man = create_manager("rpc", auto_close_at_exit=auto_close)
    try:
        assert atexit._ncallbacks() == before + (1 if auto_close else 0)
    finally:
        man.close()


def test_acqflow_manager_places_groups_on_a_pyacq_host():
    from pyacq.core.host import Host
    proc, host = Host.spawn("shared-host")
    man = acqflow.manager.Manager()
    try:
        man.add_host("rig", proc.client.address)
        group = man.create_nodegroup("acq", host="rig")
        assert group.proxy.describe()["name"] == "acq"
        assert [c["name"] for c in host.list()] == ["acq"]
    finally:
        man.close()
        proc.stop()


def test_nodelist_all_nodes_is_the_registry():
    from pyacq.core import nodelist
    from pyacq.core.node import _MyTestNode
    assert nodelist.all_nodes["_MyTestNode"] is _MyTestNode
    assert "_MyTestNode" in nodelist.all_nodes and "NoSuchNode" not in nodelist.all_nodes
    # the registry's types and pyacq's own (which every pyacq node group knows)
    assert set(nodelist.all_nodes.keys()) == \
        set(acqflow.node_type_names()) | set(nodelist.PYACQ_NODE_TYPES)
    assert nodelist.all_nodes["RawRecorder"].__module__ == "acqflow.compat.pyacq.rec.rawrecorder"
    with pytest.raises(AttributeError, match="NoSuchClass"):
        nodelist.register_node_type_from_module("pyacq.core.node", "NoSuchClass")


def test_pyacq_nodes_have_pyacq_streams():
    from pyacq.core.stream import InputStream, OutputStream
    from pyacq.core.tests.fakenodes import FakeReceiver, FakeSender
    sender, receiver = FakeSender(name="s"), FakeReceiver(name="r")
    assert isinstance(sender.output, OutputStream) and isinstance(receiver.input, InputStream)
    sender.output.configure(protocol="inproc", dtype="float32", shape=(-1, 16),
                            transfermode="plaindata", compression="", units="")
    receiver.input.connect(sender.output)
    assert receiver.input.params["shape"] == (-1, 16)
    receiver.close()
    sender.close()
