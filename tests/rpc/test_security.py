"""CurveZMQ: loopback-only without keys, key generation, authorised vs refused clients."""
import logging
import os
import shutil
import stat
import threading

import pytest

from acqflow.commands import keys as keys_command
from acqflow.rpc import RPCClient, RPCServer, keys
from acqflow.rpc.security import is_loopback

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def no_default_keys(monkeypatch):
    monkeypatch.delenv(keys.ENV_KEYS, raising=False)
    keys.set_default_client_keys(None)
    yield
    keys.set_default_client_keys(None)


@pytest.fixture
def keydir(tmp_path):
    assert keys_command.main([str(tmp_path / "keys")]) == 0
    return tmp_path / "keys"


def test_loopback_detection():
    assert is_loopback("tcp://127.0.0.1:5000") and is_loopback("tcp://127.3.2.1:*")
    assert is_loopback("tcp://localhost:1") and is_loopback("tcp://[::1]:*")
    assert is_loopback("ipc:///tmp/x") and is_loopback("inproc://x")
    assert not is_loopback("tcp://0.0.0.0:*") and not is_loopback("tcp://10.0.0.1:80")
    assert not is_loopback("tcp://*:5000") and not is_loopback("tcp://example.org:1")


def test_non_loopback_bind_needs_keys():
    for address in ("tcp://0.0.0.0:*", "tcp://*:*"):
        with pytest.raises(PermissionError, match="CurveZMQ"):
            RPCServer(address)


def test_keys_command_makes_pairs(keydir):
    for name in ("server.key", "server.key_secret", "client.key", "client.key_secret",
                 "authorized/client.key"):
        assert (keydir / name).exists(), name
    assert stat.S_IMODE(os.stat(keydir / "server.key_secret").st_mode) == 0o600
    assert "secret" not in (keydir / "authorized" / "client.key").read_text()
    assert keys_command.main([str(keydir), "--client", "laptop"]) == 0
    assert (keydir / "authorized" / "laptop.key").exists()
    pair = keys.load_client_keys(keydir, "laptop")
    assert len(pair.public) == 40 and len(pair.secret) == 40


def _serve(server):
    t = threading.Thread(target=server.run_forever, daemon=True)
    t.start()
    return t


def test_curve_server_accepts_authorised_and_refuses_others(keydir, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="acqflow.rpc.security")
    server = RPCServer(keys_dir=keydir)
    server["answer"] = lambda: 42
    assert server.server_key == keys.server_public_key(keydir).decode()
    t = _serve(server)
    try:
        good = RPCClient(server.address, server_key=server.server_key,
                         client_keys=keys.load_client_keys(keydir))
        assert good.call("answer") == 42
        good.close()
        # a key pair that was never authorised: no reply, the refusal is logged
        rogue_dir = tmp_path / "rogue"
        keys.generate(rogue_dir)
        calls = []
        server["answer"] = lambda: calls.append(1) or 42
        rogue = RPCClient(server.address, server_key=server.server_key,
                          client_keys=keys.load_client_keys(rogue_dir))
        with pytest.raises(TimeoutError):
            rogue.call("answer", _timeout=1.0)
        # regression: once the server has refused the handshake, the next request blocked
        # forever inside send() (a DEALER with no connection); it must time out too
        with pytest.raises(TimeoutError):
            rogue.call("answer", _timeout=1.0)
        with pytest.raises(TimeoutError):
            rogue.call("answer", _sync="async", _timeout=1.0).result()
        rogue.close()
        assert calls == []            # nothing was executed for it
        assert any("refused CURVE client key" in r.getMessage() for r in caplog.records)
        # a plain (non-Curve) client gets nowhere either
        plain = RPCClient(server.address)
        with pytest.raises(TimeoutError):
            plain.ping(timeout=0.5)
        plain.close()
        # keys for clients can also come from the defaults (what proxies use)
        keys.set_default_client_keys(keydir)
        dflt = RPCClient(server.address, server_key=server.server_key)
        assert dflt.ping() == "pong"
        dflt.close()
    finally:
        server.close()
        t.join(10)


def test_revoking_a_key_takes_effect(keydir):
    server = RPCServer(keys_dir=keydir)
    t = _serve(server)
    try:
        os.remove(keydir / "authorized" / "client.key")
        c = RPCClient(server.address, server_key=server.server_key,
                      client_keys=keys.load_client_keys(keydir))
        with pytest.raises(TimeoutError):
            c.ping(timeout=0.5)
        c.close()
        shutil.copy(keydir / "client.key", keydir / "authorized" / "client.key")
        c = RPCClient(server.address, server_key=server.server_key,
                      client_keys=keys.load_client_keys(keydir))
        assert c.ping(timeout=10) == "pong"
        c.close()
    finally:
        server.close()
        t.join(10)


def test_curve_client_without_keys_is_refused_locally(keydir):
    with pytest.raises(PermissionError, match="client keys"):
        RPCClient("tcp://127.0.0.1:1", server_key=keys.server_public_key(keydir))
