"""Exceptions raised by the RPC layer."""
from __future__ import annotations

from ..errors import Error

__all__ = ["RemoteCallError", "RPCDisconnected", "ServerProcessDied", "SpawnError",
           "SerializationError"]


class RemoteCallError(Error):
    """An exception raised on the remote side; carries its type name and full traceback."""

    def __init__(self, remote_type: str, message: str, remote_traceback: str = ""):
        super().__init__(remote_type, message, remote_traceback)
        self.remote_type = remote_type
        self.remote_message = message
        self.remote_traceback = remote_traceback

    @property
    def type_str(self) -> str:
        """pyacq's name for ``remote_type``."""
        return self.remote_type

    def __str__(self) -> str:
        text = f"{self.remote_type}: {self.remote_message}"
        if self.remote_traceback:
            text += "\n===== remote traceback =====\n" + self.remote_traceback.rstrip()
        return text


class RPCDisconnected(Error, ConnectionError, RuntimeError):
    """The server closed, its process exited, or the client was closed (a RuntimeError
    too, as pyacq raises for a disconnected server)."""


class ServerProcessDied(RPCDisconnected, TimeoutError):
    """The server's process exited without closing: no reply will ever come (a
    TimeoutError too, as pyacq's client times out on a dead server)."""


class SpawnError(Error, RuntimeError):
    """A child process failed to start its RPC server; the message holds its traceback."""


class SerializationError(Error, TypeError):
    """A value cannot be encoded or a message cannot be decoded."""
