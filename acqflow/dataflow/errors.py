"""Exceptions raised by the dataflow layer."""

from ..errors import Error

__all__ = ["StreamError", "StreamClosed", "OverrunError"]


class StreamError(Error, RuntimeError):
    """A stream was used in a way its state does not allow."""


class StreamClosed(StreamError):
    """The output at the other end of the stream was closed."""


class OverrunError(Error, IndexError):
    """Data asked for was overwritten (or was being overwritten) by the writer."""
