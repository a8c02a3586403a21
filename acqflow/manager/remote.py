"""Node groups on other machines, through `acqflow host` daemons, and their liveness.

Each host gets one :class:`HostMonitor`: a background thread that asks the
daemon for its children (``host.list``) every ``period`` s and waits at most
``timeout`` s for each answer.  A host that does not answer in time (link
down, packets silently dropped, daemon killed or stopped) is *unreachable*:
every group placed on it reports exit code -1 with a reason such as
``host rig unreachable: no answer within 0.8 s``.  The Manager's heartbeat
reads that cached verdict without blocking, so a lost host is noticed within
``period + timeout`` s plus one heartbeat, and calls already waiting on the
lost host fail instead of running to their own timeout.

A group whose process exits on a reachable host reports the daemon's exit code.
Once the host answers again, a dead group can be restarted
(``Manager.restart_group`` or the restart policy): the old process is killed
through the daemon, a new one spawned and its streams re-connected.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ..dataflow.paramcheck import positive_number
from ..rpc.client import RPCClient
from ..rpc.errors import RPCDisconnected
from ..rpc.hostdaemon import HostClient
from .groups import exit_reason

__all__ = ["HostMonitor", "RemoteGroupProcess", "spawn_on_host", "LOST"]

log = logging.getLogger(__name__)

LOST = -1   # exit code reported for a process whose host cannot be reached


class HostMonitor:
    """Watches one host daemon from a background thread.

    ``reachable`` is False once a ``host.list`` request went unanswered for
    ``timeout`` s (or the daemon said it closed), and True again at the next
    answer.  ``children`` maps process names to exit codes (None: running) as of
    the last answer.  While this manager waits on the daemon itself (spawning a
    process blocks the daemon for a while), missing answers are not held
    against it: that call has its own timeout.
    """

    period: float = 0.2
    timeout: float = 0.8

    def __init__(self, name: str, host: HostClient, period: float | None = None,
                 timeout: float | None = None):
        self.name = name
        self.host = host
        self.period = positive_number(f"host {name!r}: period", period if period is not None else self.period,
                                      " s")
        self.timeout = positive_number(f"host {name!r}: timeout",
                                       timeout if timeout is not None else self.timeout, " s")
        self.reachable = True
        self.reason: str | None = None
        self.children: dict[str, int | None] = {}
        self.listed_at = 0.0          # monotonic time the last answered request was sent
        self.lost_at: float | None = None
        self.generation = 0           # +1 each time the host answers again after being lost
        self._proxy_generation = 0
        self._busy = 0
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"acqflow-host-monitor {name}",
                                        daemon=True)
        self._thread.start()

    # -- the thread -----------------------------------------------------------
    def _client(self) -> RPCClient:
        return RPCClient.get_client(self.host.client.address, server_key=self._server_key(),
                                    client_keys=self.host.client_keys, timeout=self.timeout)

    def _server_key(self) -> Any:
        ref = self.host.host._ref
        return ref.server_key

    def _run(self) -> None:
        client = None
        while not self._stop.is_set():
            sent = time.monotonic()
            try:
                if client is None:
                    client = self._client()
                listing = client.call("host.list", _timeout=self.timeout)
            except TimeoutError:
                self._missed(f"host {self.name} unreachable: no answer within {self.timeout:g} s")
            except RPCDisconnected as exc:
                self._missed(f"host {self.name} unreachable: {exc}")
                if client is not None:
                    client.close()      # a restarted daemon needs a fresh connection
                client = None
            except Exception as exc:     # noqa: BLE001 - any failure means we cannot vouch for it
                self._missed(f"host {self.name} unreachable: {exc!r}")
            else:
                self._answer(listing, sent)
            self._stop.wait(max(0.0, self.period - (time.monotonic() - sent)))
        if client is not None:
            client.close()

    def _answer(self, listing: list[dict], sent: float) -> None:
        with self._lock:
            self.children = {e["name"]: e["exit_code"] for e in listing}
            self.listed_at = sent
            if not self.reachable:
                log.warning("host %s answers again (it was lost for %.1f s)", self.name,
                            time.monotonic() - (self.lost_at or sent))
                self.generation += 1
            self.reachable, self.reason, self.lost_at = True, None, None
            self._answered.notify_all()

    def _missed(self, reason: str) -> None:
        with self._lock:
            if self._busy or not self.reachable:
                return
            self.reachable, self.reason, self.lost_at = False, reason, time.monotonic()
        log.error("%s", reason)

    # -- used by the manager --------------------------------------------------
    def daemon(self) -> HostClient:
        """The host client, its ``host`` proxy renewed (from this thread) if the host
        was lost meanwhile: a restarted daemon does not know the old proxy's object,
        and a daemon that said it closed needs a new connection."""
        if self._proxy_generation != self.generation:
            address, key = self.host.client.address, self._server_key()
            client = RPCClient.get_client(address, server_key=key, client_keys=self.host.client_keys)
            if client.disconnected():
                client.close()
                client = RPCClient.get_client(address, server_key=key, client_keys=self.host.client_keys)
            self.host.host = client.get("host")
            self._proxy_generation = self.generation
        return self.host

    def busy(self) -> "_Busy":
        """Context manager around calls to the daemon (they have their own timeout)."""
        return _Busy(self)

    def wait_reachable(self, timeout: float) -> bool:
        """Wait until the daemon has answered after now; True if it did within ``timeout`` s."""
        start = time.monotonic()
        with self._lock:
            return self._answered.wait_for(lambda: self.reachable and self.listed_at >= start,
                                           timeout)

    def close(self) -> None:
        """Stop the monitoring thread."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(self.timeout + self.period + 1.0)

    def __repr__(self) -> str:
        return f"<HostMonitor {self.name} {'reachable' if self.reachable else self.reason}>"


class _Busy:
    def __init__(self, monitor: HostMonitor):
        self.monitor = monitor

    def __enter__(self) -> None:
        with self.monitor._lock:
            self.monitor._busy += 1

    def __exit__(self, *exc: object) -> None:
        with self.monitor._lock:
            self.monitor._busy -= 1


class RemoteGroupProcess:
    """A group process started by a host daemon, with the ProcessSpawner interface
    the Manager uses (``client``, ``pid``, ``exit_code``, ``alive``, ``stop``, ``kill``).

    ``exit_code`` never blocks: it reads the host monitor's last verdict (None
    while the daemon lists the process as running, the daemon's exit code once it
    exited, ``LOST`` (-1) when the host is unreachable or no longer knows it);
    ``lost_reason`` says why in words.
    """

    stop_timeout: float = 10.0

    def __init__(self, host: HostClient, monitor: HostMonitor, name: str, qt: bool):
        self.host = host
        self.monitor = monitor
        with monitor.busy():
            self.process = monitor.daemon().spawn(name, qt)
        self.spawned_at = time.monotonic()
        self.name, self.pid = self.process.name, self.process.pid

    @property
    def client(self) -> RPCClient:
        """This thread's client to the process; its calls fail once the process is lost."""
        client = self.process.client
        if client.liveness is None:
            client.liveness = self._liveness
        return client

    def _liveness(self) -> str | None:
        return None if self.exit_code is None else self.lost_reason

    @property
    def exit_code(self) -> int | None:
        m = self.monitor
        if not m.reachable:
            return LOST
        if self.name in m.children:
            return m.children[self.name]
        return LOST if m.listed_at > self.spawned_at else None

    @property
    def lost_reason(self) -> str | None:
        """Why the process counts as gone (None while it runs)."""
        code, m = self.exit_code, self.monitor
        if code is None:
            return None
        if not m.reachable:
            return m.reason
        if self.name not in m.children:
            return f"process {self.name} no longer known to host {m.name} (daemon restarted?)"
        return f"{exit_reason(code)} on host {m.name}"

    @property
    def alive(self) -> bool:
        return self.exit_code is None

    def _ask(self, action: str, *args: Any) -> int:
        """``host.stop``/``host.kill`` of this process; LOST when the host is gone."""
        if not self.monitor.reachable:
            log.warning("cannot %s %s: %s (it may still run there)", action, self.name,
                        self.monitor.reason)
            return LOST
        try:
            with self.monitor.busy():
                return getattr(self.monitor.daemon().host, action)(self.name, *args,
                                                       _timeout=self.stop_timeout + 5.0)
        except Exception as exc:
            log.warning("%s %s on host %s: %s", action, self.name, self.monitor.name, exc)
            return LOST

    def stop(self, timeout: float = 10.0) -> int:
        return self._ask("stop", timeout)

    def kill(self) -> int:
        return self._ask("kill")


def spawn_on_host(host: dict, name: str, qt: bool = False,
                  host_name: str | None = None) -> RemoteGroupProcess:
    """Start a group process on the host described by ``Manager.add_host`` options
    (``host['liveness_period']`` / ``host['liveness_timeout']`` tune the monitor)."""
    client = host.get("client")
    if client is None:
        client = host["client"] = HostClient(host["address"], keys_dir=host.get("keys_dir"))
    monitor = host.get("monitor")
    if monitor is None:
        monitor = host["monitor"] = HostMonitor(host_name or host["address"], client,
                                                host.get("liveness_period"),
                                                host.get("liveness_timeout"))
    if not monitor.reachable:
        raise ConnectionError(f"cannot start group {name!r}: {monitor.reason}")
    return RemoteGroupProcess(client, monitor, name, qt)


def close_host(host: dict | None) -> None:
    """Stop the monitor of a host registered with ``Manager.add_host``."""
    if host and host.get("monitor") is not None:
        host.pop("monitor").close()
