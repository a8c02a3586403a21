"""ProcessSpawner: lifetime, exit codes, log forwarding, start failures, orphans, dead servers."""
import logging
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from acqflow.rpc import ProcessSpawner, RPCDisconnected, SpawnError

from .util import pid_gone, wait_for

pytestmark = pytest.mark.timeout(60)


def test_stop_wait_exit_code_and_kill():
    p = ProcessSpawner(name="lifetime")
    assert p.alive and p.exit_code is None
    assert p.client._import("os").getpid() == p.pid
    assert p.stop() == 0
    assert not p.alive and p.exit_code == 0
    q = ProcessSpawner(name="killed")
    with pytest.raises(TimeoutError):
        q.wait(timeout=0.1)
    assert q.kill() == -signal.SIGKILL
    assert q.wait() == -signal.SIGKILL
    r = ProcessSpawner(name="exits")
    r.client._import("os")._exit(7, _sync="off")
    assert r.wait(10) == 7


def test_stop_and_kill_close_this_threads_socket_to_the_child():
    """Regression: every stopped or killed process left this thread's socket to it open
    (a file-descriptor leak over a long session of restarts)."""
    for end in ("stop", "kill"):
        p = ProcessSpawner(name=end)
        client = p.client
        assert client.ping() == "pong"
        getattr(p, end)()
        assert client._socket.closed and client.disconnected()


def test_child_stdout_stderr_and_logging_reach_parent(caplog):
    caplog.set_level(logging.INFO)
    with ProcessSpawner(name="chatty") as p:
        builtins = p.client._import("builtins")
        builtins.print("hello on stdout")
        sys_ = p.client._import("sys")
        sys_.stderr.write("trouble on stderr\n")
        sys_.stderr.flush()
        logger = p.client._import("logging").getLogger("chatty.module")
        logger.info("info record %s", 42)
        logger.error("error record")
        p.client.ping()

        def records(text):
            return [r for r in caplog.records if text in r.getMessage()]
        out = wait_for(lambda: records("hello on stdout"), message="stdout line")
        assert out[0].processName == "chatty" and out[0].levelno == logging.INFO
        err = wait_for(lambda: records("trouble on stderr"), message="stderr line")
        assert err[0].processName == "chatty" and err[0].levelno == logging.WARNING
        assert "chatty" in err[0].name
        info = wait_for(lambda: records("info record 42"), message="log record")
        assert info[0].processName == "chatty" and info[0].name == "chatty.module"
        assert info[0].process == p.pid
        assert wait_for(lambda: records("error record"))[0].levelno == logging.ERROR


def test_failed_start_reports_traceback():
    with pytest.raises(SpawnError) as info:
        ProcessSpawner(name="broken", imports=["tests.rpc.no_such_module_here"])
    assert "ModuleNotFoundError" in str(info.value) and "Traceback" in str(info.value)
    with pytest.raises(SpawnError, match="bind|Address|address|resolve|Invalid"):
        ProcessSpawner(name="badaddr", address="tcp://127.0.0.1:notaport")


def test_crash_before_reporting_is_detected(tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'cannot run' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(SpawnError) as info:
        ProcessSpawner(name="nopython", python=str(fake))
    assert "code 3" in str(info.value) and "cannot run" in str(info.value)


def test_dead_server_detected():
    p = ProcessSpawner(name="stopped")
    client = p.client
    os.kill(p.pid, signal.SIGSTOP)          # a hung server: ping times out
    try:
        with pytest.raises(TimeoutError):
            client.ping(timeout=0.3)
    finally:
        os.kill(p.pid, signal.SIGCONT)
    assert client.ping(timeout=10) == "pong"
    ro = client._import("tests.rpc.remote_objects")
    thing = ro.Thing()
    fut = thing.sleep(30, _sync="async")
    p.kill()                                # a dead process: pending and new calls fail fast
    with pytest.raises(RPCDisconnected, match="exited"):
        fut.result(timeout=20)
    with pytest.raises(RPCDisconnected):
        thing.add(1, 2)
    assert client.disconnected()


PARENT = textwrap.dedent("""
    import sys, threading
    from acqflow.rpc import ProcessSpawner
    a = ProcessSpawner(name="orphan-a")
    holder = []
    t = threading.Thread(target=lambda: holder.append(ProcessSpawner(name="orphan-b")))
    t.start(); t.join()
    print(a.pid, holder[0].pid, flush=True)
    threading.Event().wait(120)
""")


@pytest.mark.timeout(90)
def test_children_die_with_parent_killed_by_sigkill():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True,
                              cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    try:
        line = parent.stdout.readline()
        pids = [int(x) for x in line.split()]
        assert len(pids) == 2 and not any(pid_gone(p) for p in pids)
    finally:
        parent.kill()          # SIGKILL: no cleanup code runs in the parent
        parent.wait()
    # orphan-a: PR_SET_PDEATHSIG; orphan-b (spawned from a thread): the stdin/ppid watchdog
    wait_for(lambda: all(pid_gone(p) for p in pids), timeout=20, message="orphans to exit")


def test_children_launched_without_waiting_start_side_by_side():
    children = [ProcessSpawner(name=f"side{k}", wait=False, preload=["colorsys", "no_such_module_x"])
                for k in range(2)]
    try:
        for child in children:
            assert child.alive
            child.wait_started()
            child.wait_started()           # a second call is a no-op
            modules = child.client.import_module("sys").modules
            assert "colorsys" in modules.keys()          # preloaded
            assert "no_such_module_x" not in modules.keys()   # skipped, not fatal
    finally:
        for child in children:
            child.stop()


def test_a_launched_child_that_fails_is_reported_when_waited_for():
    child = ProcessSpawner(name="broken-late", wait=False, imports=["tests.rpc.no_such_module_here"])
    with pytest.raises(SpawnError, match="ModuleNotFoundError"):
        child.wait_started()
    assert not child.alive


def test_a_ctrl_c_that_reaches_a_child_before_it_left_our_group_does_not_kill_it():
    """A child is forked with SIGINT/SIGTERM blocked and discards what arrived before it
    left the spawner's process group (a terminal's Ctrl-C to the group, on a loaded machine)."""
    child = ProcessSpawner(name="early-sigint", wait=False)
    try:
        os.kill(child.proc.pid, signal.SIGINT)     # still starting: the signal is blocked
        os.kill(child.proc.pid, signal.SIGTERM)
        child.wait_started()
        assert child.client.ping() == "pong"
    finally:
        child.stop()
