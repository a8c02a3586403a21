"""Exceptions raised by the dataflow layer."""

from ..errors import Error

__all__ = ["StreamError", "StreamClosed", "OverrunError", "MalformedMessage"]


class StreamError(Error, RuntimeError):
    """A stream was used in a way its state does not allow."""


class StreamClosed(StreamError):
    """The output at the other end of the stream was closed."""


class OverrunError(Error, IndexError):
    """Data asked for was overwritten (or was being overwritten) by the writer."""


class MalformedMessage(StreamError):
    """A stream message whose frames or header do not make sense (counted and skipped)."""
