"""Host daemon on loopback: spawn through it with Curve keys; unauthorised keys refused."""
import os
import shutil
import subprocess
import sys
import threading

import pytest

from acqflow.rpc import keys
from acqflow.rpc.hostdaemon import HostClient

pytestmark = pytest.mark.timeout(90)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start_daemon(*args):
    proc = subprocess.Popen([sys.executable, "-m", "acqflow.rpc.hostdaemon", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise AssertionError(f"daemon did not start: {line!r} {proc.stderr.read()}")
    return proc, line.split()[4]


@pytest.fixture(autouse=True)
def reset_default_keys():
    keys.set_default_client_keys(None)
    yield
    keys.set_default_client_keys(None)


def test_daemon_refuses_public_bind_without_keys():
    out = subprocess.run([sys.executable, "-m", "acqflow.rpc.hostdaemon", "--bind",
                          "tcp://0.0.0.0:*"], capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert out.returncode == 2 and "CurveZMQ" in out.stderr


def test_daemon_listens_on_private_ipc_by_default_and_its_children_too():
    from acqflow.rpc.private import private_dir
    daemon, address = start_daemon()
    try:
        assert address.startswith("ipc://") and os.path.dirname(address[6:]) == str(private_dir())
        host = HostClient(address)
        remote = host.spawn("worker")
        assert remote.address.startswith("ipc://") and remote.server_key is None
        assert remote.client._import("os").getpid() == remote.pid
        assert remote.stop() == 0
    finally:
        daemon.terminate()
        daemon.communicate(timeout=30)


def test_daemon_refuses_loopback_tcp_without_keys_unless_insecure_and_then_warns():
    out = subprocess.run([sys.executable, "-m", "acqflow.rpc.hostdaemon", "--bind", "tcp://127.0.0.1:*"],
                         capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "every local user could run code" in out.stderr and "--insecure" in out.stderr
    daemon, address = start_daemon("--bind", "tcp://127.0.0.1:*", "--insecure")
    try:
        assert address.startswith("tcp://127.0.0.1:")
        assert HostClient(address).list() == []
    finally:
        daemon.terminate()
        _, err = daemon.communicate(timeout=30)
    warnings = [line for line in err.splitlines() if "WARNING: --insecure" in line]
    assert len(warnings) == 1 and "every local user can run code" in warnings[0]
    assert "keys" in subprocess.run([sys.executable, "-m", "acqflow.rpc.hostdaemon", "--help"],
                                    capture_output=True, text=True, cwd=ROOT, timeout=30).stdout


def test_spawn_through_daemon_with_keys_and_refuse_rogue(tmp_path):
    keydir = tmp_path / "keys"
    keys.generate(keydir)
    daemon, address = start_daemon("--bind", "tcp://127.0.0.1:*", "--keys", str(keydir))
    try:
        host = HostClient(address, keydir)
        remote = host.spawn("worker")
        assert remote.server_key                      # the child is a Curve server too
        os_ = remote.client._import("os")
        assert os_.getpid() == remote.pid != os.getpid()
        assert [p["name"] for p in host.list()] == ["worker"]
        assert remote.stop() == 0
        assert host.list() == []
        # a manager whose key is not authorised is refused and nothing runs for it
        rogue = tmp_path / "rogue"
        keys.generate(rogue)
        shutil.copy(keydir / "server.key", rogue / "server.key")   # knows the server key only
        with pytest.raises(TimeoutError):
            HostClient(address, rogue, timeout=1.0)
        assert HostClient(address, keydir).list() == []
    finally:
        daemon.terminate()
        _, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0
    assert "refused CURVE client key" in err


def test_two_hosts_with_different_key_directories_from_one_process(tmp_path):
    """Regression: only the first HostClient's keys became the process-wide client keys,
    so proxies to a second host (with other keys) were refused."""
    daemons = []
    try:
        hosts = []
        for name in ("a", "b"):
            keydir = tmp_path / name
            keys.generate(keydir)
            daemon, address = start_daemon("--bind", "tcp://127.0.0.1:*", "--keys", str(keydir))
            daemons.append(daemon)
            hosts.append(HostClient(address, keydir, timeout=10.0))
        for host in hosts:
            remote = host.spawn("worker")
            os_ = remote.client._import("os")
            # a proxy used from another thread connects on its own, with the keys
            # registered for that host's server key
            got = []
            t = threading.Thread(target=lambda: got.append(os_.getpid(_timeout=5.0)))
            t.start()
            t.join(30)
            assert got == [remote.pid]
            assert remote.stop() == 0
    finally:
        for daemon in daemons:
            daemon.terminate()
            daemon.communicate(timeout=30)


def test_daemon_holds_a_cpu_latency_request_while_it_serves():
    from acqflow.dataflow.cpulatency import DEVICE, current_cpu_latency
    out = subprocess.run([sys.executable, "-m", "acqflow.rpc.hostdaemon", "--cpu-latency", "-5"],
                         capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert out.returncode == 2 and out.stderr.strip() == (
        "acqflow host: --cpu-latency: CPU latency (microseconds) must be an int in 0..2147483647, got -5")
    if not os.access(DEVICE, os.R_OK | os.W_OK):
        pytest.skip(f"{DEVICE} is not readable and writable here")
    before = current_cpu_latency()
    daemon, _ = start_daemon("--cpu-latency", "0")
    try:
        assert current_cpu_latency() == 0               # held from before it says it listens
    finally:
        daemon.terminate()
        daemon.communicate(timeout=30)
    assert daemon.returncode == 0 and current_cpu_latency() == before
