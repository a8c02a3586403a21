"""pyacq's logging helpers (``pyacq.core.rpc.log``) on acqflow's log forwarding.

Records logged in spawned processes already reach the parent's logging (see
``logforward``); this module adds pyacq's names: host/process/thread names shown
in headers, ``start_log_server(logger)`` (records from other processes handled by
``logger``), ``set_logger_address()`` (send this process's records to a server),
and ``RPCLogHandler``, a stderr handler that sorts records from all processes by
creation time and colours them by level and by host:process:thread.
"""
from __future__ import annotations

import atexit
import logging
import os
import socket
import sys
import threading
import time
from typing import IO

from .logforward import LogReceiver, LogSender

__all__ = ["get_host_name", "set_host_name", "get_process_name", "set_process_name",
           "get_thread_name", "set_thread_name", "start_log_server", "stop_log_server", "get_logger_address",
           "set_logger_address", "RPCLogHandler", "LogServer", "LogSender", "spawned_as"]

_names = {"host": socket.gethostname(), "process": f"process-{os.getpid()}"}
_thread_names: dict[int, str] = {}
_state: dict = {"server": None, "sender": None, "address": None}


def set_host_name(name: str) -> None:
    """Name of this host in log headers."""
    _names["host"] = name


def get_host_name() -> str:
    """Name of this host in log headers (the machine's hostname by default)."""
    return _names["host"]


def set_process_name(name: str) -> None:
    """Name of this process in log headers (and in records it forwards)."""
    _names["process"] = name


def get_process_name() -> str:
    """Name of this process in log headers (``process-PID`` by default)."""
    return _names["process"]


def set_thread_name(name: str, tid: int | None = None) -> None:
    """Name of a thread (default: the calling one) in log headers."""
    _thread_names[threading.get_ident() if tid is None else tid] = name


def get_thread_name(tid: int | None = None) -> str:
    """Name of a thread (default: the calling one) in log headers."""
    tid = threading.get_ident() if tid is None else tid
    return _thread_names.get(tid, f"thread-{tid:x}")


class LogServer(LogReceiver):
    """Receives records from other processes and hands them to one logger."""

    def __init__(self, logger: logging.Logger | str):
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        super().__init__()

    def _handle(self, record: logging.LogRecord) -> None:
        if self.logger.isEnabledFor(record.levelno):
            self.logger.handle(record)


def start_log_server(logger: logging.Logger | str) -> LogServer:
    """Start this process's log server; records sent to ``get_logger_address()`` (by
    processes that called ``set_logger_address``) are handled by ``logger``."""
    if _state["server"] is not None:
        raise RuntimeError("a log server already runs in this process")
    server = _state["server"] = LogServer(logger)
    return server


def stop_log_server() -> None:
    """Stop this process's log server, if one runs (``start_log_server`` may then run again)."""
    server, _state["server"] = _state["server"], None
    if server is not None:
        server.close()


def get_logger_address() -> str | None:
    """The address of this process's log server, else the one given to
    ``set_logger_address``, else that of the receiver spawned children log to."""
    if _state["server"] is not None:
        return _state["server"].address
    return _state["address"] or LogReceiver.instance().address


def spawned_as(name: str, log_address: str) -> None:
    """Called in a spawned process: its name, and where its records already go."""
    set_process_name(name)
    _state["address"] = log_address


def set_logger_address(address: str) -> None:
    """Send every record of this process (root logger) to the log server at ``address``."""
    if _state["sender"] is not None:
        raise RuntimeError("this process already sends its records to a log server")
    sender = _NamedSender(address, get_process_name())
    logging.getLogger().addHandler(sender)
    _state["sender"], _state["address"] = sender, address


class _NamedSender(LogSender):
    """LogSender that adds the pyacq-style host/process/thread names to each record."""

    def emit(self, record: logging.LogRecord) -> None:
        record.host_name = get_host_name()
        record.process_name = get_process_name()
        record.thread_name = _thread_names.get(record.thread or 0, record.threadName)
        self.child_name = get_process_name()
        super().emit(record)


_RESET = "\x1b[0m"
_LEVEL_COLORS = {logging.DEBUG: "\x1b[2;37m", logging.INFO: "\x1b[1;37m",
                 logging.WARNING: "\x1b[1;33m", logging.ERROR: "\x1b[1;31m",
                 logging.CRITICAL: "\x1b[41m"}
_HEADER_COLORS = [f"\x1b[{i};{c}m" for i in (0, 1, 2) for c in range(31, 37)]


class RPCLogHandler(logging.StreamHandler):
    """stderr handler for records of many processes: holds each record ``delay`` seconds
    to print them sorted by creation time, prefixed ``[host:process:thread]``, coloured
    by level and by header when the stream is a terminal (``color=True`` forces it)."""

    def __init__(self, stream: IO[str] | None = None, delay: float = 0.9,
                 color: bool | None = None):
        super().__init__(sys.stderr if stream is None else stream)
        self.delay = delay
        self.color = color
        self.headers: dict[tuple, str] = {}
        self.records: list[logging.LogRecord] = []
        self.record_lock = threading.Lock()
        self._wake = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True, name="acqflow-log-sort")
        self.thread.start()
        atexit.register(self.flush_records)

    @property
    def is_tty(self) -> bool:
        """True when the stream is a terminal."""
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def _colored(self) -> bool:
        return self.is_tty if self.color is None else self.color

    def emit(self, record: logging.LogRecord) -> None:
        with self.record_lock:
            self.records.append(record)
            self.records.sort(key=lambda r: r.created)

    def _poll(self) -> None:
        while True:
            limit = time.time() - self.delay
            with self.record_lock:
                ready = [r for r in self.records if r.created < limit]
                self.records = [r for r in self.records if r.created >= limit]
            for record in ready:
                logging.StreamHandler.emit(self, record)
            if not ready:
                self._wake.wait(0.2)

    def flush_records(self) -> None:
        """Print every held record now."""
        with self.record_lock:
            ready, self.records = self.records, []
        for record in ready:
            logging.StreamHandler.emit(self, record)

    def header(self, record: logging.LogRecord) -> str:
        """``[host:process:thread]`` of a record (coloured per header)."""
        key = (getattr(record, "host_name", get_host_name()),
               getattr(record, "process_name", None) or
               (record.processName if record.processName not in (None, "MainProcess")
                else get_process_name()),
               getattr(record, "thread_name", None) or get_thread_name(record.thread or 0))
        text = "[{}:{}:{}]".format(*key)
        if self._colored():
            color = self.headers.setdefault(key, _HEADER_COLORS[len(self.headers) %
                                                                len(_HEADER_COLORS)])
            text = color + text + _RESET
        return text

    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        if self._colored():
            level = max((lv for lv in _LEVEL_COLORS if lv <= record.levelno), default=logging.DEBUG)
            message = _LEVEL_COLORS[level] + message + _RESET
        return self.header(record) + " " + message
