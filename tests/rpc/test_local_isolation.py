"""Another local user gets nothing by default: no stream data, no stalled source, no code run
through a host daemon or an RPC server, no blocked private directory (a real second uid)."""
import os
import pwd
import stat
import subprocess
import sys
import tempfile
import textwrap

import pytest

from acqflow import OutputStream
from acqflow.rpc import ProcessSpawner, RPCServer
from acqflow.rpc.private import private_dir
from tests.dataflow.streamdata import sends_freely

from .util import wait_for

pytestmark = pytest.mark.timeout(180)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRANGER = os.path.join(ROOT, "tests", "rpc", "stranger.py")
OTHER = "acqflow-other"


@pytest.fixture(scope="module")
def other_user():
    """(uid, gid) of a second local user, created with useradd if missing."""
    if os.geteuid() != 0:
        pytest.skip("creating and switching to a second uid needs root")
    try:
        entry = pwd.getpwnam(OTHER)
    except KeyError:
        made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                               OTHER], capture_output=True, text=True, timeout=60)
        if made.returncode not in (0, 9):          # 9: made meanwhile by another run
            pytest.skip(f"useradd cannot create {OTHER}: {made.stderr.strip()}")
        entry = pwd.getpwnam(OTHER)
    probe = subprocess.run(_as(entry.pw_uid, entry.pw_gid, "-c", "import zmq"), capture_output=True,
                           text=True, timeout=60, env=_env())
    if probe.returncode != 0:
        pytest.skip(f"{OTHER} cannot run {sys.executable} with pyzmq: {probe.stderr.strip()[-200:]}")
    return entry.pw_uid, entry.pw_gid


def _as(uid, gid, *args):
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", sys.executable, *args]


def _env(**extra):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1",
           "HOME": "/nonexistent"}
    env.update(extra)
    return env


def stranger(user, mode, address):
    """What the other user's attempt ``mode`` on ``address`` printed (stranger.py)."""
    out = subprocess.run(_as(*user, STRANGER, mode, address), capture_output=True, text=True,
                         timeout=60, env=_env())
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


class Subscribed:
    """The other user's SUB socket on ``url``, subscribed to everything and never reading."""

    def __init__(self, user, url):
        self.proc = subprocess.Popen(_as(*user, STRANGER, "sub", url), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=_env())
        self.connected = self.proc.stdout.readline().strip() == "connected"

    def received(self) -> int:
        """Stop it; how many messages reached it."""
        out, err = self.proc.communicate("done\n", timeout=60)
        assert self.proc.returncode == 0, err
        return int(out.strip())


@pytest.mark.parametrize("backpressure", ["drop", "block"])
def test_a_default_stream_is_out_of_reach(other_user, backpressure):
    out = OutputStream(name="secret")
    out.configure(dtype="float32", shape=(-1, 16), backpressure=backpressure, hwm=2)
    try:
        url = out.params["url"]
        sub = Subscribed(other_user, url)
        sent = sends_freely(out)
        assert (sub.connected, sub.received()) == (False, 0)
        assert sent, "the source stalled"
        assert out.params["protocol"] == "ipc" and url.startswith("ipc://")
        assert os.path.dirname(url[len("ipc://"):]) == str(private_dir())
        assert stranger(other_user, "unix", url[len("ipc://"):]) == "refused"
    finally:
        out.close()


@pytest.mark.parametrize("backpressure", ["drop", "block"])
def test_a_tcp_stream_serves_no_stranger_and_is_not_stalled_by_one(other_user, backpressure):
    """tcp is opt-in and open to local users: they connect, but get nothing without the
    stream key, and their never-read subscription cannot stall a block-mode output."""
    out = OutputStream(name="opted-in")
    out.configure(protocol="tcp", dtype="float32", shape=(-1, 16), backpressure=backpressure, hwm=2)
    try:
        sub = Subscribed(other_user, out.params["url"])
        assert sub.connected                     # the port is open to every local user
        wait_for(lambda: out._publisher.refused, timeout=10, message="the forged handshake to be refused")
        sent = sends_freely(out)
        assert sub.received() == 0
        assert sent, "a stranger's subscription stalled the source"
    finally:
        out.close()


def test_a_sharedmem_ring_is_readable_by_this_user_only(other_user):
    out = OutputStream(name="ring")
    out.configure(dtype="float32", shape=(-1, 16), transfermode="sharedmem", buffer_size=256)
    try:
        path = f"/dev/shm/{out.params['shm_name']}"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        opened = subprocess.run(_as(*other_user, "-c", f"open({path!r}, 'rb')"), capture_output=True,
                                text=True, timeout=60, env=_env())
        assert "PermissionError" in opened.stderr
    finally:
        out.close()


def test_default_rpc_servers_and_children_run_nothing_for_a_stranger(other_user):
    server = RPCServer()
    child = ProcessSpawner(name="isolated-child")
    try:
        for address in (server.address, child.address):
            assert address.startswith("ipc://")
            assert stranger(other_user, "unix", address[len("ipc://"):]) == "refused"
            assert stranger(other_user, "rpc", address) == "no-answer"
        assert child.client.ping() == "pong"
    finally:
        child.stop()
        server.close()


def test_the_default_host_daemon_runs_nothing_for_a_stranger(other_user):
    daemon = subprocess.Popen([sys.executable, "-m", "acqflow.commands", "host"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = daemon.stdout.readline()
        assert "listening on" in line, daemon.stderr.read()
        address = line.split()[4]
        assert address.startswith("ipc://")
        assert stranger(other_user, "unix", address[len("ipc://"):]) == "refused"
        assert stranger(other_user, "rpc", address) == "no-answer"
    finally:
        daemon.terminate()
        daemon.communicate(timeout=30)
    assert daemon.returncode == 0


SPAWN_AND_STREAM = textwrap.dedent("""
    import logging, sys
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")
    from acqflow import InputStream, OutputStream
    from acqflow.rpc import ProcessSpawner
    from acqflow.rpc.private import private_dir
    child = ProcessSpawner(name="after-squat")
    assert child.client.ping() == "pong"
    theirs = child.client._import("acqflow.rpc.private").private_address("probe")
    assert theirs.startswith(f"ipc://{private_dir()}/"), theirs     # the child shares it
    child.stop()
    out = OutputStream()
    out.configure(dtype="float32", shape=(-1, 2))
    inp = InputStream()
    inp.connect(out.params)
    print(private_dir())
""")


def test_a_private_dir_taken_by_another_user_is_replaced_by_a_fresh_one(other_user):
    """The other user creates ``$TMPDIR/acqflow-0`` first: spawning and streams still work, in
    a fresh 0700 directory, and one warning line says so."""
    base = tempfile.mkdtemp(prefix="acqflow-squat-")
    os.chmod(base, 0o1777)                       # a /tmp of its own
    try:
        squatted = os.path.join(base, f"acqflow-{os.getuid()}")
        made = subprocess.run(_as(*other_user, "-c", f"import os; os.mkdir({squatted!r}, 0o777)"),
                              capture_output=True, text=True, timeout=60, env=_env())
        assert made.returncode == 0, made.stderr
        env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "ACQFLOW_PRIVATE_DIR")}
        out = subprocess.run([sys.executable, "-c", SPAWN_AND_STREAM], capture_output=True, text=True,
                             timeout=120, cwd=ROOT, env=dict(env, TMPDIR=base, PYTHONPATH=ROOT))
        assert out.returncode == 0, out.stderr
        used = out.stdout.strip()
        assert os.path.dirname(used) == base and used != squatted
        st = os.stat(used)
        assert st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) == 0o700
        warnings = [line for line in out.stderr.splitlines() if "unusable" in line]
        assert len(warnings) == 1, out.stderr
        assert squatted in warnings[0] and f"belongs to uid {other_user[0]}" in warnings[0]
    finally:
        subprocess.run(["rm", "-rf", base], timeout=60)
