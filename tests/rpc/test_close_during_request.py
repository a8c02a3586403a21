"""A close asked for while a request runs (a host daemon's Ctrl-C) waits for its reply."""
import threading

import pytest

from acqflow.rpc import RPCClient, RPCServer

pytestmark = pytest.mark.timeout(60)


class Closer:
    """Asks its own server to close, then calls another server from the serving thread:
    that call's reactor pass sees the close request (as a signal handler's would be)."""

    def __init__(self, server: RPCServer, other: str):
        self.server, self.other = server, other

    def close_then_call(self) -> int:
        self.server.request_close()
        return RPCClient.get_client(self.other)["value"] + 1


def test_a_close_requested_during_a_request_lets_it_reply(thread_server):
    server = RPCServer()
    thread_server["value"] = 41
    server["closer"] = Closer(server, thread_server.address)
    serving = threading.Thread(target=server.run_forever, daemon=True)
    serving.start()
    client = RPCClient.get_client(server.address)
    assert client["closer"].close_then_call(_timeout=10) == 42       # replied before closing
    serving.join(10)
    assert not serving.is_alive() and server.closed
