"""Log forwarding from child processes: records over zmq, stdout/stderr lines from pipes."""
from __future__ import annotations

import collections
import json
import logging
import threading
from typing import IO

import zmq

from .private import private_address

__all__ = ["LogSender", "LogReceiver", "PipeLogger", "child_logger_name"]

_FIELDS = ("name", "levelno", "levelname", "pathname", "filename", "module", "lineno",
           "funcName", "created", "msecs", "relativeCreated", "thread", "threadName", "process")
_NAMES = ("host_name", "process_name", "thread_name")   # pyacq-style names (rpc.log)


def child_logger_name(child: str) -> str:
    """Logger that receives a child's stdout/stderr lines."""
    return "acqflow.child." + child.replace(".", "_")


class LogSender(logging.Handler):
    """Handler (in a child) that sends every record to the parent's LogReceiver."""

    def __init__(self, address: str, child_name: str):
        super().__init__()
        self.child_name = child_name
        self._socket: zmq.Socket = zmq.Context.instance().socket(zmq.PUSH)
        self._socket.set(zmq.LINGER, 2000)
        self._socket.set(zmq.SNDHWM, 10000)
        self._socket.connect(address)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            d = {k: getattr(record, k, None) for k in _FIELDS}
            d["msg"] = record.getMessage()
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            d["exc_text"] = record.exc_text
            d["stack_info"] = record.stack_info
            d["processName"] = self.child_name
            for k in _NAMES:
                if hasattr(record, k):
                    d[k] = getattr(record, k)
            self._socket.send(json.dumps(d, default=str).encode(), zmq.NOBLOCK)
        except zmq.Again:
            pass
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        self.acquire()
        try:
            self._socket.close()
        finally:
            self.release()
        super().close()


_STOP = b"acqflow-log-receiver-stop"


class LogReceiver:
    """Process-wide thread re-emitting child records into this process's logging."""

    _instance: LogReceiver | None = None
    _lock = threading.Lock()

    @classmethod
    def instance(cls) -> LogReceiver:
        """The receiver of this process (started on first use)."""
        with cls._lock:
            if cls._instance is None or not cls._instance._thread.is_alive():
                cls._instance = cls()
            return cls._instance

    def __init__(self) -> None:
        self._socket: zmq.Socket = zmq.Context.instance().socket(zmq.PULL)
        self._socket.set(zmq.LINGER, 0)
        self._socket.bind(private_address("log"))
        self.address: str = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="acqflow-log-receiver", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the receiving thread (it closes its own socket: zmq sockets are not shared)."""
        self._stopping.set()
        push = zmq.Context.instance().socket(zmq.PUSH)
        push.set(zmq.LINGER, 1000)
        try:
            push.connect(self.address)
            push.send(_STOP)
        finally:
            push.close()
        self._thread.join(timeout)

    def _run(self) -> None:
        sock = self._socket
        while True:
            try:
                data = sock.recv()
            except zmq.ContextTerminated:
                return
            except zmq.ZMQError:
                return
            if data == _STOP and self._stopping.is_set():
                sock.close()
                return
            try:
                d = json.loads(data)
                if not isinstance(d, dict):
                    continue
                self._handle(logging.makeLogRecord(d))
            except Exception:  # a bad record must not stop forwarding
                logging.getLogger(__name__).debug("bad forwarded log record", exc_info=True)


    def _handle(self, record: logging.LogRecord) -> None:
        """Re-emit ``record`` on the logger of its original name."""
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)


class PipeLogger:
    """Thread logging each line of a child's pipe (stdout: INFO, stderr: WARNING)."""

    def __init__(self, pipe: IO[bytes], child_name: str, level: int, keep: int = 200):
        self.pipe = pipe
        self.child_name = child_name
        self.level = level
        self.tail: collections.deque[str] = collections.deque(maxlen=keep)
        self.logger = logging.getLogger(child_logger_name(child_name))
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name=f"acqflow-pipe-{child_name}")
        self.thread.start()

    def _run(self) -> None:
        for raw in iter(self.pipe.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.tail.append(line)
            if self.logger.isEnabledFor(self.level):
                record = self.logger.makeRecord(self.logger.name, self.level, "(child)", 0, line,
                                                (), None)
                record.processName = self.child_name
                self.logger.handle(record)
        self.pipe.close()

    def text(self) -> str:
        """The last lines read."""
        return "\n".join(self.tail)
