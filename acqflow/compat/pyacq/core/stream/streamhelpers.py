"""pyacq.core.stream.streamhelpers: the transfer-mode registry, read-only here.

pyacq let code register extra transfer modes (DataSender/DataReceiver pairs);
acqflow's two transports ('plaindata', 'sharedmem') are built in, so
``register_transfermode`` refuses with a message saying so.
"""
from __future__ import annotations

from acqflow.dataflow.streams.spec import TRANSFERMODES, make_dtype

__all__ = ["DataSender", "DataReceiver", "all_transfermodes", "register_transfermode",
           "make_dtype"]


class DataSender:
    """pyacq's base class for senders; acqflow's OutputStream does the sending."""

    def __init__(self, socket, params):
        self.socket = socket
        self.params = params
        self.funcs: list = []

    def send(self, index, data):
        raise NotImplementedError

    def close(self) -> None:
        pass


class DataReceiver:
    """pyacq's base class for receivers; ``buffer`` is the shared ring, if any."""

    def __init__(self, socket, params, buffer=None):
        self.socket = socket
        self.params = params
        self.buffer = buffer

    def recv(self, return_data=False):
        raise NotImplementedError

    def close(self) -> None:
        pass


all_transfermodes: dict = {mode: (DataSender, DataReceiver) for mode in TRANSFERMODES}


def register_transfermode(modename, sender, receiver):
    """Refused: acqflow's transports are built in."""
    raise NotImplementedError(f"cannot register transfer mode {modename!r}: acqflow's streams "
                              f"support only {', '.join(TRANSFERMODES)}")
