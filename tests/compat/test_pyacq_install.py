"""install(): ``import pyacq`` here and in processes started by the spawner or a Host."""
import os
import sys

import acqflow.compat.pyacq as compat
from acqflow.rpc import ProcessSpawner
from acqflow.testing import run_python


def test_pyacq_is_the_compat_tree():
    import pyacq
    import pyacq.core
    import pyacq.core.tools
    assert pyacq is compat
    assert pyacq.core.tools.__name__ == "acqflow.compat.pyacq.core.tools"
    assert pyacq.Node is pyacq.core.Node and pyacq.ThreadPollInput is pyacq.core.ThreadPollInput
    assert pyacq.create_manager is pyacq.core.manager.create_manager


def test_core_exports_pyacq_core_names():
    import pyacq.core
    for name in ("RPCServer", "RPCClient", "ObjectProxy", "QtRPCServer", "RemoteCallException",
                 "ProcessSpawner", "NodeGroup", "Node", "WidgetNode", "register_node_type",
                 "Manager", "create_manager", "OutputStream", "InputStream", "ThreadPollInput",
                 "ThreadPollOutput", "StreamConverter", "ChannelSplitter"):
        assert getattr(pyacq.core, name) is not None, name
    assert "Manager" in dir(pyacq.core)


def test_a_spawned_process_imports_pyacq():
    with ProcessSpawner(name="compat-child") as proc:
        rpyacq = proc.client._import("pyacq")
        assert rpyacq.installed() is True
        assert rpyacq._TARGET._get_value() == "acqflow.compat.pyacq"
        rtools = proc.client._import("pyacq.core.tools")
        assert rtools.ThreadPollInput.pos._get_proxy() is not None
        # and its own children too (the flag is inherited)
        assert proc.client._import("os").environ.get(compat.ENV_FLAG) == "1"


def test_processes_of_a_host_import_pyacq():
    from pyacq.core.host import Host
    proc, host = Host.spawn("compat-host")
    try:
        ng = host.create_nodegroup("compat-group", qt=False)
        assert "_MyTestNode" in ng.list_node_types()
        assert [c["name"] for c in host.list()] == ["compat-group"]
        host.close_all_nodegroups()
    finally:
        proc.stop()


def test_without_install_children_have_no_pyacq():
    code = ("import acqflow.compat.pyacq as c, os; c.install(); c.uninstall(); "
            "from acqflow.rpc import ProcessSpawner\n"
            "import importlib.util as u\n"
            "with ProcessSpawner() as p:\n"
            "    print(p.client._import('importlib.util').find_spec('pyacq') is None)\n")
    out = run_python(code, env={compat.ENV_FLAG: None, compat.CHILD_IMPORTS: None})
    assert out.stdout.strip() == "True", out.stderr


def test_install_is_idempotent_and_names_one_child_module():
    compat.install()
    compat.install()
    assert os.environ[compat.CHILD_IMPORTS].split(",").count(compat.CHILD_MODULE) == 1
    assert compat.installed()


def test_top_level_names_come_from_core_then_devices_then_viewers(monkeypatch):
    import types
    import pytest
    import pyacq
    devices = types.ModuleType("acqflow.compat.pyacq.devices")
    devices.SomeDevice = object()
    monkeypatch.setitem(sys.modules, "acqflow.compat.pyacq.devices", devices)
    monkeypatch.delitem(vars(pyacq), "SomeDevice", raising=False)
    assert pyacq.SomeDevice is devices.SomeDevice
    monkeypatch.delitem(vars(pyacq), "SomeDevice")
    with pytest.raises(AttributeError, match="NoSuchName"):
        pyacq.NoSuchName


def test_widget_node_lives_in_pyacq_core_node_and_imports_qt_only_when_asked_for():
    """As in pyacq, WidgetNode and _MyTestNodeQWidget are names of pyacq.core.node (one class
    by every path, found by the node list too); Qt is imported only when one is asked for."""
    code = ("import sys, acqflow.compat.pyacq as c; c.install()\n"
            "from pyacq.core.node import Node\n"
            "import pyacq.core, pyacq.core.nodelist as nodelist, pyacq.core.nodegroup\n"
            "assert not {'pyqtgraph', 'PyQt5'} & set(sys.modules), 'Qt imported early'\n"
            "from pyacq.core.node import WidgetNode\n"
            "import pyacq, pyacq.core.node as node\n"
            "assert WidgetNode is pyacq.core.WidgetNode is pyacq.WidgetNode is node.WidgetNode\n"
            "assert nodelist.get_node_type('_MyTestNodeQWidget') is node._MyTestNodeQWidget\n"
            "assert issubclass(node._MyTestNodeQWidget, WidgetNode) and issubclass(WidgetNode, Node)\n"
            "print(WidgetNode.__module__, WidgetNode.__qualname__, node._MyTestNodeQWidget.__qualname__)\n")
    out = run_python(code, env={"QT_QPA_PLATFORM": "offscreen"})
    assert out.stdout.split() == ["acqflow.compat.pyacq.core.node", "WidgetNode", "_MyTestNodeQWidget"]
