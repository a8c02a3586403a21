"""ProcessSpawner: start a Python process running an RPC server and talk to it."""
from __future__ import annotations

import itertools
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import zmq

from . import registry
from .client import RPCClient, client_for
from .errors import SpawnError
from .keys import load_server_keys
from .logforward import LogReceiver, PipeLogger
from .private import private_address

__all__ = ["ProcessSpawner"]

logger = logging.getLogger(__name__)
_counter = itertools.count(1)
_TERMINAL_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class ProcessSpawner:
    """A child Python process serving RPC requests (a Qt GUI thread one with ``qt=True``).

    ``.client`` is this thread's RPCClient to it; ``client.import_module('mod')`` gives
    proxies to its modules.  Its stdout (INFO), stderr (WARNING) and logging
    records reach this process's logging with the child's name as
    ``processName``.  It dies with this process.  A child that cannot start
    raises SpawnError with its traceback.  Without ``address`` the child listens on a
    private ipc socket that only this user can reach (see docs/rpc.md).
    ``wait=False`` returns once the process is launched; call :meth:`wait_started`
    before using it (so several children can start side by side).  ``imports`` are
    imported before it serves (a failure fails the start); ``preload`` too, but a
    module that fails there is skipped (a head start for modules needed later).
    """

    def __init__(self, name: str | None = None, qt: bool = False,
                 address: str | None = None, *, keys_dir: str | os.PathLike | None = None,
                 log_level: int | None = None, start_timeout: float = 30.0,
                 imports: list[str] | tuple[str, ...] = (), python: str = sys.executable,
                 env: dict[str, str] | None = None, wait: bool = True,
                 preload: list[str] | tuple[str, ...] = ()):
        self.name = name or f"child-{os.getpid()}-{next(_counter)}"
        self.qt = qt
        # with Curve keys we talk to the child as the host itself (its server key pair,
        # which every server of that keys directory accepts)
        self._client_keys = load_server_keys(keys_dir) if keys_dir is not None else None
        if log_level is None:
            log_level = logging.getLogger().getEffectiveLevel()
        receiver = LogReceiver.instance()
        ctx: zmq.Context = zmq.Context.instance()
        status = ctx.socket(zmq.PULL)
        status.linger = 0
        status.bind(private_address("status"))
        config = {
            "name": self.name, "qt": qt, "address": address,
            "keys_dir": str(keys_dir) if keys_dir is not None else None,
            "log_address": receiver.address, "log_level": log_level,
            "status_address": status.getsockopt_string(zmq.LAST_ENDPOINT),
            "parent_pid": os.getpid(),
            "pdeathsig": threading.current_thread() is threading.main_thread(),
            "imports": list(imports), "preload": list(preload), "sys_path": [p for p in sys.path if p],
        }
        child_env = dict(os.environ if env is None else env)
        child_env["PYTHONPATH"] = os.pathsep.join(
            [_PACKAGE_ROOT] + [p for p in child_env.get("PYTHONPATH", "").split(os.pathsep) if p])
        child_env.setdefault("PYTHONUNBUFFERED", "1")
        # Its own process group: a terminal's Ctrl-C (SIGINT) or a SIGTERM sent to our
        # group reaches only us, and we stop the child in order (it dies with us anyway).
        # ... and until it has left our group (between fork and setpgid, or not yet scheduled
        # on a loaded machine) a Ctrl-C sent to our group must not kill it: it is forked with
        # SIGINT/SIGTERM blocked, and the bootstrap discards what arrived meanwhile.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _TERMINAL_SIGNALS)
        try:
            self.proc = subprocess.Popen([python, "-u", "-m", "acqflow.rpc.bootstrap"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=child_env, process_group=0)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr  # PIPEs
        self._stdout = PipeLogger(self.proc.stdout, self.name, logging.INFO)
        self._stderr = PipeLogger(self.proc.stderr, self.name, logging.WARNING)
        self._status = status
        self._start_timeout = start_timeout
        try:
            try:
                self.proc.stdin.write(json.dumps(config).encode() + b"\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass                     # it died already: wait_started reports why
        except BaseException:
            status.close()
            self.kill()
            raise
        if wait:
            self.wait_started()

    def wait_started(self) -> None:
        """Wait until the child serves (SpawnError, and the child killed, if it cannot)."""
        if hasattr(self, "address"):
            return
        try:
            info = self._wait_started(self._status, self._start_timeout)
        except BaseException:
            self.kill()
            raise
        finally:
            self._status.close()
        self.address: str = info["address"]
        registry.new_server_at(self.address)   # the port may have served another
        self.pid: int = info["pid"]
        self.server_key: str | None = info.get("server_key")
        logger.debug("spawned %s (pid %d) at %s", self.name, self.pid, self.address)

    def _wait_started(self, status: zmq.Socket, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            if status.poll(100):
                msg: dict = status.recv_json()  # type: ignore[assignment]
                if msg.get("status") == "ok":
                    return msg
                self._reap(5.0)
                raise SpawnError(f"process {self.name} failed to start:\n{msg.get('traceback')}")
            code = self.proc.poll()
            if code is not None:
                self._reap(5.0)
                raise SpawnError(f"process {self.name} exited with code {code} before starting"
                                 f"; its stderr:\n{self._stderr.text()}")
            if time.monotonic() > deadline:
                raise SpawnError(f"process {self.name} did not start within {timeout} s; "
                                 f"its stderr:\n{self._stderr.text()}")

    def _reap(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stderr.thread.join(timeout)
        self._stdout.thread.join(timeout)

    # -- talking to it ---------------------------------------------------------
    @property
    def client(self) -> RPCClient:
        """This thread's RPCClient to the child (it notices if the child dies)."""
        if self._client_keys is not None:
            client = RPCClient.get_client(self.address, server_key=self.server_key,
                                          client_keys=self._client_keys)
        else:
            client = client_for(self.address, self.server_key)
        if client.liveness is None:
            client.liveness = self._death_reason
        return client

    def _death_reason(self) -> str | None:
        code = self.proc.poll()
        return None if code is None else f"process {self.name} exited with code {code}"

    # -- lifetime --------------------------------------------------------------
    @property
    def exit_code(self) -> int | None:
        """The exit code, or None while running."""
        return self.proc.poll()

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc.poll() is None

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the process to exit; its exit code (TimeoutError after ``timeout``)."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"process {self.name} still running after {timeout} s") from None
        self._close_pipes()
        return code

    def _close_pipes(self) -> None:
        if hasattr(self, "address"):     # (not set when the process failed to start)
            # this thread's socket to the child would outlive the process
            RPCClient.close_thread_client(self.address, self._death_reason())
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        self._stdout.thread.join(5.0)
        self._stderr.thread.join(5.0)

    def stop(self, timeout: float = 10.0) -> int:
        """Ask the server to close and the process to exit; kill it if it does not."""
        if self.alive:
            try:
                self.client.close_server(timeout=timeout)
            except Exception as exc:
                logger.debug("close_server to %s failed: %s", self.name, exc)
            try:
                return self.wait(timeout)
            except TimeoutError:
                logger.warning("process %s did not exit after close; killing it", self.name)
        return self.kill()

    def kill(self) -> int:
        """Kill the process (SIGKILL) and return its exit code."""
        if self.proc.poll() is None:
            self.proc.kill()
        code = self.proc.wait()
        self._close_pipes()
        return code

    def __enter__(self) -> ProcessSpawner:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.alive else f"exited {self.exit_code}"
        return f"<ProcessSpawner {self.name} pid={self.proc.pid} {state}>"
