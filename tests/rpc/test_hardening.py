"""Issue 14 (RPC): hostile nesting, unreadable requests, the client table, who may connect."""
import json
import os
import stat
import subprocess
import sys
import textwrap

import msgpack
import pytest
import zmq

from acqflow.rpc import ProcessSpawner, RemoteCallError, RPCClient, RPCServer
from acqflow.rpc.private import private_dir
from acqflow.rpc.serializer import MAX_EXT_DEPTH

from .util import wait_for

pytestmark = pytest.mark.timeout(180)


def nested_tuples(levels: int) -> bytes:
    """msgpack of a tuple nested ``levels`` deep (ext type 3 inside ext type 3 ...)."""
    body = msgpack.packb(1)
    for _ in range(levels):
        body = msgpack.packb(msgpack.ExtType(3, b"\x91" + body))
    return body


def raw_request(frames: list, address: str, timeout_ms: int = 20000) -> list:
    """Send one raw request on a fresh DEALER socket and return the reply frames."""
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(address)
    try:
        sock.send_multipart(frames)
        assert sock.poll(timeout_ms), "no reply: the server died or ignored the request"
        return sock.recv_multipart()
    finally:
        sock.close()


def attack_msgpack(levels: int) -> bytes:
    """The review's request: a call whose argument is ~200 nested tuples (749 bytes)."""
    fields = [("action", "call"), ("req_id", 41), ("name", "self"), ("attrs", ["running"])]
    return b"\x85" + b"".join(msgpack.packb(k) + msgpack.packb(v) for k, v in fields) + \
        msgpack.packb("args") + b"\x91" + nested_tuples(levels)


@pytest.fixture(scope="module")
def victim():
    """A real server in a child process (as a manager's group process is)."""
    proc = ProcessSpawner(name="nesting-victim")
    yield proc
    proc.stop()


@pytest.mark.parametrize("levels", [200, 1000, 20000])
def test_deeply_nested_tuples_get_an_error_and_the_server_lives(victim, levels):
    body = attack_msgpack(levels)
    if levels == 200:
        assert len(body) < 1000        # the size of the review's request
    reply = msgpack.unpackb(raw_request([b"msgpack", body], victim.address)[1], raw=False,
                            strict_map_key=False, ext_hook=lambda c, d: None)
    assert reply["req_id"] == 41
    assert f"more than {MAX_EXT_DEPTH} levels deep" in reply["error"]["message"]
    assert victim.alive and victim.client.ping() == "pong"


@pytest.mark.parametrize("text", [
    '{"action": "ping", "req_id": 42, "args": ' + "[" * 100000 + "]" * 100000 + "}",
    '{"action": "ping", "req_id": 42, "args": ' + '{"a": ' * 50000 + "1" + "}" * 50000 + "}",
    '{"action": "ping", "req_id": 42, "args": ' + '{"__type__": "tuple", "items": [' * 3000
    + "]}" * 3000 + "}",
])
def test_deep_json_gets_an_error_and_the_server_lives(victim, text):
    reply = json.loads(raw_request([b"json", text.encode()], victim.address)[1])
    assert reply["req_id"] == 42
    assert "levels deep; the limit is" in reply["error"]["message"]
    assert victim.alive and victim.client.ping() == "pong"


def test_deep_plain_msgpack_arrays_get_an_error(victim):
    body = b"\x83" + msgpack.packb("action") + msgpack.packb("ping") + msgpack.packb("req_id") + \
        msgpack.packb(43) + msgpack.packb("args") + b"\x91" * 5000 + b"\x01"
    reply = msgpack.unpackb(raw_request([b"msgpack", body], victim.address)[1], raw=False)
    assert reply["req_id"] == 43 and "nested deeper" in reply["error"]["message"]
    assert victim.client.ping() == "pong"


# -- unreadable requests: the caller gets its error at once -----------------------

@pytest.mark.parametrize("serializer", ["msgpack", "json"])
def test_unreadable_request_fails_the_call_not_the_timeout(thread_server, serializer):
    thread_server["echo"] = lambda x: x
    client = RPCClient(thread_server.address, serializer=serializer)
    value = 1
    for _ in range(120):                  # deeper than either decoder accepts
        value = (value,)
    try:
        # with a reply naming no request this waited the whole timeout (TimeoutError)
        with pytest.raises(RemoteCallError, match="levels deep"):
            client.call("echo", value, _timeout=60)
        assert client.call("echo", 5) == 5
    finally:
        client.close()


@pytest.mark.parametrize("ser,body,req_id", [
    (b"msgpack", msgpack.packb({"action": "call", "req_id": 7, "args": [1, 2, 3]})[:-2], 7),
    (b"msgpack", msgpack.packb({"req_id": "abc", "action": "call"}) + b"\xc1", "abc"),
    (b"json", b'{"action": "call", "req_id": 8, "args": [1, 2', 8),
    (b"json", b'{"args": [{"req_id": 1}], "req_id": 9, "action": "call"', 9),
    (b"json", b'{"action": "call", "req_id": "r-1", "args": [}', "r-1"),
    (b"msgpack", b"\xc1\xc1", None),
])
def test_error_reply_names_the_request_id_when_the_frame_does(thread_server, ser, body, req_id):
    reply = raw_request([ser, body], thread_server.address)
    decoded = json.loads(reply[1]) if reply[0] == b"json" else msgpack.unpackb(reply[1], raw=False)
    assert decoded["action"] == "error" and decoded["req_id"] == req_id


# -- the client table ------------------------------------------------------------

def _stats(address):
    return RPCClient.get_client(address).server_stats()


def test_client_table_stays_bounded_after_many_short_lived_clients():
    import threading
    server = RPCServer(max_clients=50)
    thread = threading.Thread(target=server.run_forever, daemon=True)
    thread.start()
    try:
        ctx = zmq.Context.instance()
        ping = json.dumps({"action": "ping", "req_id": 1}).encode()
        for _ in range(2000):             # clients that vanish without a word
            sock = ctx.socket(zmq.DEALER)
            sock.linger = 0
            sock.connect(server.address)
            sock.send_multipart([b"json", ping])
            assert sock.poll(20000)
            sock.recv_multipart()
            sock.close()
        assert _stats(server.address)["clients"] <= 50
        for _ in range(300):              # well-behaved clients say goodbye on close()
            done = []

            def short_lived():
                c = RPCClient.get_client(server.address)
                done.append(c.ping())
                c.close()
            t = threading.Thread(target=short_lived)
            t.start()
            t.join(30)
            assert done == ["pong"]
        stats = _stats(server.address)
        assert stats["clients"] <= 50
    finally:
        RPCClient.get_client(server.address).close()
        server.close()
        thread.join(10)


def test_idle_clients_expire():
    import threading
    server = RPCServer(client_idle_s=0.5)
    thread = threading.Thread(target=server.run_forever, daemon=True)
    thread.start()
    try:
        for _ in range(20):
            raw_request([b"json", b'{"action": "ping", "req_id": 1}'], server.address)
        assert wait_for(lambda: _stats(server.address)["clients"] == 1, timeout=30)
    finally:
        RPCClient.get_client(server.address).close()
        server.close()
        thread.join(10)


# -- only this user may connect to loopback servers ----------------------------------

def test_private_dir_is_0700_and_ours():
    d = private_dir()
    st = os.stat(d)
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.getuid()


def test_servers_and_children_listen_in_the_private_dir(victim):
    server = RPCServer()
    try:
        for address in (server.address, victim.address):
            assert address.startswith("ipc://")
            assert os.path.dirname(address[len("ipc://"):]) == str(private_dir())
        rsrv = victim.client._import("acqflow.rpc.server").RPCServer()
        assert os.path.dirname(rsrv.address._get_value()[6:]) == str(private_dir())
        rsrv.close()
    finally:
        server.close()
    assert not os.path.exists(server.address[len("ipc://"):])   # the file goes with it


OTHER_USER = textwrap.dedent("""
    import socket, sys
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sys.argv[1])
        print("connected")
    except PermissionError:
        print("refused")
""")


def _as_user(uid, path):
    return subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                           sys.executable, "-c", OTHER_USER, path],
                          capture_output=True, text=True, timeout=60)


def test_another_user_cannot_connect(victim):
    if os.getuid() != 0:
        pytest.skip("switching to another uid needs root (setpriv)")
    path = victim.address[len("ipc://"):]
    out = _as_user(65534, path)
    if out.returncode != 0 and "setpriv" in out.stderr:
        pytest.skip(f"setpriv cannot switch user here: {out.stderr.strip()}")
    assert out.stdout.strip() == "refused", out.stderr
    assert _as_user(0, path).stdout.strip() == "connected"     # the same user can
    assert victim.client.ping() == "pong"
