"""Entry point of a spawned process: ``python -m acqflow.rpc.bootstrap`` (config on stdin).

Reads one JSON line of configuration, arranges to die with its parent,
forwards logging to the parent, starts an RPC server (a QtRPCServer with a
QApplication for ``qt``), reports its address (or the traceback of what went
wrong) on the parent's status socket, then serves until closed.
"""
from __future__ import annotations

import ctypes
import importlib
import json
import logging
import os
import select
import signal
import sys
import threading
import traceback
from typing import Any

import zmq

__all__ = ["main", "die_with_parent"]

PR_SET_PDEATHSIG = 1
_EXIT_ORPHANED = 3


def die_with_parent(parent_pid: int, use_pdeathsig: bool, stdin_fd: int | None) -> None:
    """Exit when the parent dies: PR_SET_PDEATHSIG (Linux), plus a watchdog thread that
    notices EOF on the stdin pipe held by the parent or a change of parent pid."""
    if use_pdeathsig and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:   # the parent died before we could arrange anything
        os._exit(_EXIT_ORPHANED)

    poller = select.poll()   # not select(): it fails on descriptors >= 1024
    if stdin_fd is not None:
        poller.register(stdin_fd, select.POLLIN)

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(_EXIT_ORPHANED)
            if stdin_fd is None:
                threading.Event().wait(0.5)
                continue
            if poller.poll(500):
                try:
                    data = os.read(stdin_fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    os._exit(_EXIT_ORPHANED)

    threading.Thread(target=watch, name="acqflow-parent-watchdog", daemon=True).start()


def _setup_logging(config: dict) -> None:
    from .logforward import LogSender
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(LogSender(config["log_address"], config["name"]))
    from .log import spawned_as
    spawned_as(config["name"], config["log_address"])
    root.setLevel(config.get("log_level") or logging.WARNING)


def _make_server(config: dict) -> Any:
    env_imports = filter(None, os.environ.get("ACQFLOW_CHILD_IMPORTS", "").split(","))
    for module in [*env_imports, *(config.get("imports") or ())]:
        importlib.import_module(module)
    for module in config.get("preload") or ():
        try:                     # a head start only: whoever needs it imports it again
            importlib.import_module(module)
        except Exception as exc:
            logging.getLogger(__name__).debug("preload %s: %s", module, exc)
    kwargs = {"keys_dir": config.get("keys_dir"), "name": config["name"]}
    if config.get("qt"):
        if not (os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY")
                or os.environ.get("WAYLAND_DISPLAY")):
            # Without a display Qt aborts the process; draw offscreen instead.
            logging.getLogger(__name__).warning(
                "%s: no display (DISPLAY/WAYLAND_DISPLAY unset): Qt windows are drawn offscreen",
                config["name"])
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PyQt5 import QtWidgets

        from .qtserver import QtRPCServer
        app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([config["name"]])
        app.setQuitOnLastWindowClosed(False)  # type: ignore[attr-defined]
        return QtRPCServer(config["address"], **kwargs)
    from .server import RPCServer
    return RPCServer(config["address"], **kwargs)


def _discard_terminal_signals() -> None:
    """The spawner forks us with SIGINT/SIGTERM blocked (a Ctrl-C to its group could land
    before we left it): drop any that arrived meanwhile, then take them as usual."""
    terminal = {signal.SIGINT, signal.SIGTERM}
    before = {sig: signal.getsignal(sig) for sig in terminal}
    for sig in terminal:
        signal.signal(sig, signal.SIG_IGN)      # discards a pending one
    signal.pthread_sigmask(signal.SIG_UNBLOCK, terminal)
    for sig, handler in before.items():
        signal.signal(sig, handler)


def main() -> int:
    """Run the child: returns the process exit code."""
    _discard_terminal_signals()
    line = sys.stdin.buffer.readline()
    config = json.loads(line)
    die_with_parent(config["parent_pid"], config.get("pdeathsig", True), sys.stdin.fileno())
    for path in reversed(config.get("sys_path") or []):
        if path not in sys.path:
            sys.path.insert(0, path)
    status: zmq.Socket = zmq.Context.instance().socket(zmq.PUSH)
    status.linger = 5000
    status.connect(config["status_address"])
    try:
        _setup_logging(config)
        server = _make_server(config)
    except BaseException:
        status.send_json({"status": "error", "traceback": traceback.format_exc()})
        status.close()
        return 1
    status.send_json({"status": "ok", "address": server.address, "pid": os.getpid(),
                      "server_key": server.server_key})
    status.close()
    logging.getLogger(__spec__.name if __spec__ else __name__).debug(   # its module name under -m
        "%s serving at %s", config["name"], server.address)
    try:
        server.run_forever()
        if config.get("qt"):
            server.exec_()        # a QtRPCServer serves in the Qt event loop
    finally:
        server.close()
        logging.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
