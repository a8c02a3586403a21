"""A client in "another language": plain Python with only pyzmq and json, following
docs/rpc.md's wire format, calls a server (about 30 lines)."""
import base64
import json

import pytest
import zmq

pytestmark = pytest.mark.timeout(60)


class TinyJsonClient:
    """Everything a foreign client needs: DEALER socket, [b"json", body] frames."""

    def __init__(self, address):
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(address)
        self.next_id = 0

    def request(self, action, **fields):
        self.next_id += 1
        msg = {"action": action, "req_id": self.next_id, **fields}
        self.sock.send_multipart([b"json", json.dumps(msg).encode()])
        if not self.sock.poll(10000):
            raise TimeoutError(action)
        reply = json.loads(self.sock.recv_multipart()[1])
        assert reply["req_id"] == self.next_id
        if reply["error"]:
            raise RuntimeError(f"{reply['error']['type']}: {reply['error']['message']}")
        return reply["rval"]

    def call(self, proxy, attr, *args, **kwargs):
        return self.request("call", obj=proxy["obj_id"], attrs=[attr], args=list(args),
                            kwargs=kwargs)

    def release(self, proxy):
        self.sock.send_multipart([b"json", json.dumps(
            {"action": "release", "req_id": None, "refs": [[proxy["obj_id"], proxy["weight"]]]}
        ).encode()])


def test_foreign_json_client(child):
    c = TinyJsonClient(child.address)
    assert c.request("ping") == "pong"
    math = c.request("import", module="math", return_type="proxy")
    assert math["__type__"] == "proxy" and math["type"] == "module"
    assert c.call(math, "sqrt", 16) == 4.0
    np_ = c.request("import", module="numpy", return_type="proxy")
    arr = c.call(np_, "arange", 4, dtype="int16")          # arrays: dtype, shape, base64 data
    assert arr["__type__"] == "ndarray" and arr["dtype"] == "<i2" and arr["shape"] == [4]
    assert base64.b64decode(arr["base64"]) == bytes([0, 0, 1, 0, 2, 0, 3, 0])
    pair = c.call(math, "modf", 2.5)                        # tuples are tagged
    assert pair == {"__type__": "tuple", "items": [0.5, 2.0]}
    with pytest.raises(RuntimeError, match="ValueError: math domain error"):
        c.call(math, "sqrt", -1)
    stats = child.client.server_stats()["objects"]
    c.release(math)
    c.release(np_)
    assert c.request("stats")["objects"] == stats - 2
