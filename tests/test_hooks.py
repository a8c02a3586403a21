"""acqflow.hooks: a lower layer calls a higher one through a registered provider, never by
importing it (Manager.serve_web -> acqflow.web; `acqflow run --monitor` -> acqflow.viewers)."""
import pytest

import acqflow
from acqflow import hooks
from acqflow.manager import Manager
from acqflow.testing import loaded_after_import, run_python


@pytest.fixture
def restore_hooks():
    saved = dict(hooks._loaders)
    yield
    hooks._loaders.clear()
    hooks._loaders.update(saved)


def test_the_package_root_provides_the_web_monitor_the_graph_window_and_the_rpc_client():
    assert hooks.provided() == sorted([hooks.WEB_MONITOR, hooks.GRAPH_WINDOW, hooks.RPC_CLIENT])
    import acqflow.web
    assert hooks.get(hooks.WEB_MONITOR) is acqflow.web.serve_web
    assert acqflow.__name__ == "acqflow"


def test_a_missing_hook_is_a_clear_acqflow_error_naming_it(restore_hooks):
    with pytest.raises(hooks.MissingHook, match="no provider for hook 'nothing-here'") as info:
        hooks.get("nothing-here")
    assert isinstance(info.value, acqflow.Error) and isinstance(info.value, LookupError)
    with pytest.raises(TypeError, match="loader must be callable"):
        hooks.provide("x", "acqflow.web:serve_web")


def test_manager_serve_web_calls_the_registered_provider(restore_hooks):
    calls = []

    def fake_serve_web(manager, address, token=None, **kwargs):
        calls.append((manager, address, token, kwargs))
        return "served"

    hooks.provide(hooks.WEB_MONITOR, lambda: fake_serve_web)
    with Manager() as manager:
        assert manager.serve_web("127.0.0.1:0", token="t", announce=False) == "served"
    assert calls == [(manager, "127.0.0.1:0", "t", {"announce": False})]


def test_the_manager_layer_imports_neither_web_nor_viewers_until_a_hook_is_asked_for():
    assert loaded_after_import("acqflow.manager.run", ["acqflow.web", "acqflow.viewers", "aiohttp"]) == []
    code = ("import sys\nfrom acqflow import hooks\n"
            "print(hooks.get(hooks.WEB_MONITOR).__module__, 'acqflow.viewers' in sys.modules)\n")
    assert run_python(code).stdout.split() == ["acqflow.web", "False"]


def test_proxies_reach_their_client_through_the_rpc_client_hook(restore_hooks):
    from types import SimpleNamespace

    from acqflow.rpc.client import client_for
    from acqflow.rpc.proxy import ObjectProxy
    assert hooks.get(hooks.RPC_CLIENT) is client_for
    asked = []
    hooks.provide(hooks.RPC_CLIENT, lambda: lambda address, key: asked.append((address, key)) or "client")
    proxy = SimpleNamespace(_ref=SimpleNamespace(address="tcp://127.0.0.1:1", server_key="k"))
    assert ObjectProxy._client(proxy) == "client" and asked == [("tcp://127.0.0.1:1", "k")]


def test_hooks_are_the_one_injection_mechanism():
    """No module installs callables into another (``set_client_factory``, ``set_default_proxy_hooks``,
    ``set_loop_dispatcher`` were the others): a lower layer asks acqflow.hooks."""
    import ast
    import pathlib
    found = []
    for path in pathlib.Path(acqflow.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("set_") and \
                    node.name.endswith(("_factory", "_hooks", "_hook", "_dispatcher")):
                found.append(f"{path.name}: {node.name}")
    assert sorted(set(found)) == []


def test_a_loaded_provider_is_kept_until_replaced_and_a_failing_one_is_asked_again(restore_hooks):
    calls = []

    def failing():
        calls.append("fail")
        raise ImportError("needs acqflow[x]")

    hooks.provide("x", failing)
    for _ in range(2):
        with pytest.raises(ImportError, match=r"acqflow\[x\]"):
            hooks.get("x")
    hooks.provide("x", lambda: calls.append("ok") or len)
    assert hooks.get("x") is len and hooks.get("x") is len
    hooks.provide("x", lambda: abs)
    assert hooks.get("x") is abs and calls == ["fail", "fail", "ok"]
