"""Two hosts as two network namespaces joined by a veth pair (10.201.0.1 <-> 10.201.0.2).

A host daemon with Curve keys runs in namespace B; managers in namespace A spawn a
process there through it; a manager with an unauthorised key is refused.  Needs
root and ``ip netns``; skipped with the reason otherwise.
"""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from acqflow.rpc import keys

pytestmark = pytest.mark.timeout(120)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
A_IP, B_IP = "10.201.0.1", "10.201.0.2"

MANAGER = textwrap.dedent("""
    import json, os, sys
    from acqflow.rpc.hostdaemon import HostClient
    address, keydir, mode = sys.argv[1:4]
    if mode == "rogue":
        try:
            HostClient(address, keydir, timeout=2.0)
            print(json.dumps({"refused": False}))
        except TimeoutError:
            print(json.dumps({"refused": True}))
        sys.exit(0)
    host = HostClient(address, keydir)
    remote = host.spawn("netns-worker")
    os_ = remote.client._import("os")
    thing = remote.client._import("tests.rpc.remote_objects").Thing(5)
    out = {"manager_ns": os.readlink("/proc/self/ns/net"),
           "child_ns": os_.readlink("/proc/self/ns/net"),
           "child_address": remote.address, "child_pid": remote.pid,
           "sum": thing.sum(list(range(10))), "proxy_value": thing.child.get()}
    out["exit"] = remote.stop()
    print(json.dumps(out))
""")


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


@pytest.fixture
def two_hosts():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and the `ip` command to create network namespaces")
    tag = str(os.getpid())[-5:]
    ns_a, ns_b = f"acqA{tag}", f"acqB{tag}"
    made = []

    def cleanup():
        for ns in made:
            _ip("netns", "del", ns, check=False)

    probe = _ip("netns", "add", ns_a, check=False)
    if probe.returncode != 0:
        pytest.skip(f"`ip netns add` does not work here: {probe.stderr.strip()}")
    made.append(ns_a)
    try:
        _ip("netns", "add", ns_b)
        made.append(ns_b)
        _ip("link", "add", f"va{tag}", "type", "veth", "peer", "name", f"vb{tag}")
        _ip("link", "set", f"va{tag}", "netns", ns_a)
        _ip("link", "set", f"vb{tag}", "netns", ns_b)
        for ns, dev, ip in ((ns_a, f"va{tag}", A_IP), (ns_b, f"vb{tag}", B_IP)):
            _ip("-n", ns, "addr", "add", f"{ip}/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
    except Exception:
        cleanup()
        raise
    yield ns_a, ns_b
    cleanup()


def _in_ns(ns, *cmd, **kw):
    return ["ip", "netns", "exec", ns, *cmd]


def test_spawn_on_remote_host_through_daemon(two_hosts, tmp_path):
    ns_a, ns_b = two_hosts
    keydir = tmp_path / "keys"
    keys.generate(keydir)
    # without keys the daemon refuses to listen on the namespace address
    plain = subprocess.run(_in_ns(ns_b, sys.executable, "-m", "acqflow.commands", "host", "--bind",
                                  f"tcp://{B_IP}:*"), capture_output=True, text=True, cwd=ROOT,
                           timeout=30)
    assert plain.returncode == 2
    daemon = subprocess.Popen(_in_ns(ns_b, sys.executable, "-m", "acqflow.commands", "host",
                                     "--bind", f"tcp://{B_IP}:*", "--keys", str(keydir)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = daemon.stdout.readline()
        assert "listening on" in line, daemon.stderr.read()
        address = line.split()[4]
        assert address.startswith(f"tcp://{B_IP}:")
        out = subprocess.run(_in_ns(ns_a, sys.executable, "-c", MANAGER, address, str(keydir), "ok"),
                             capture_output=True, text=True, cwd=ROOT, timeout=90)
        assert out.returncode == 0, out.stderr
        res = json.loads(out.stdout.strip().splitlines()[-1])
        assert res["child_ns"] != res["manager_ns"]          # it runs on the other "host"
        assert res["child_address"].startswith(f"tcp://{B_IP}:")
        assert res["sum"] == 45.0 and res["proxy_value"] == 50 and res["exit"] == 0
        # a manager whose key is not authorised: refused, and the daemon logs it
        rogue = tmp_path / "rogue"
        keys.generate(rogue)
        shutil.copy(keydir / "server.key", rogue / "server.key")
        out = subprocess.run(_in_ns(ns_a, sys.executable, "-c", MANAGER, address, str(rogue),
                                    "rogue"), capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout.strip().splitlines()[-1]) == {"refused": True}
    finally:
        daemon.terminate()
        _, err = daemon.communicate(timeout=30)
    assert "refused CURVE client key" in err and A_IP in err
    assert "spawned netns-worker" in err
