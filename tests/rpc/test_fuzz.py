"""Bad input: garbage, truncated, oversized, mutated, deeply nested and malformed messages
never stop the server.

The decoder is fuzzed directly (hypothesis, and atheris when installed); the server
loop is fuzzed over a real socket while a well-behaved client keeps being served.
"""
import json
import os
import subprocess
import sys
import threading

import msgpack
import pytest
import zmq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acqflow.rpc import JsonSerializer, MsgpackSerializer, RPCServer, SerializationError
from acqflow.rpc.serializer import EXT, MAX_EXT_DEPTH
from acqflow.testing import examples

pytestmark = pytest.mark.timeout(120)

MSGPACK, JSON = MsgpackSerializer(), JsonSerializer()


def decode_ok_or_serialization_error(ser, body, buffers=()):
    try:
        ser.loads(body, buffers)
    except SerializationError:
        pass


@settings(max_examples=examples(1500), deadline=None)
@given(body=st.binary(max_size=200), buffers=st.lists(st.binary(max_size=64), max_size=2))
def test_decoder_garbage_bytes(body, buffers):
    decode_ok_or_serialization_error(MSGPACK, body, buffers)
    decode_ok_or_serialization_error(JSON, body)


ext_payload = st.one_of(st.binary(max_size=40), st.builds(
    lambda v: msgpack.packb(v, use_bin_type=True),
    st.recursive(st.one_of(st.none(), st.integers(-5, 2**40), st.text(max_size=8),
                           st.binary(max_size=16), st.sampled_from(["<f8", "|O", "C", "F", "V0"])),
                 lambda inner: st.lists(inner, max_size=5), max_leaves=12)))


@settings(max_examples=examples(1500), deadline=None)
@given(code=st.sampled_from(sorted(EXT.values()) + [0, 99, 127]), payload=ext_payload,
       buffers=st.lists(st.binary(max_size=32), max_size=2))
def test_decoder_structured_ext_garbage(code, payload, buffers):
    body = msgpack.packb([msgpack.ExtType(code, payload)])
    decode_ok_or_serialization_error(MSGPACK, body, buffers)


json_junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=6),
              st.sampled_from(["tuple", "ndarray", "bytes", "proxy", "dict", "scalar", "datetime",
                               "<f8", "|O", "QUJD"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(["__type__", "items", "dtype", "shape",
                                                             "base64", "iso", "address", "obj_id",
                                                             "weight", "attrs", "real"]),
                                            inner, max_size=5)), max_leaves=15)


@settings(max_examples=examples(1000), deadline=None)
@given(value=json_junk)
def test_json_decoder_tagged_junk(value):
    decode_ok_or_serialization_error(JSON, json.dumps(value).encode())


@pytest.mark.parametrize("body", [
    msgpack.packb([msgpack.ExtType(1, msgpack.packb(["|O", [1], "C", b"\0" * 8]))]),  # object bytes
    msgpack.packb([msgpack.ExtType(1, msgpack.packb(["<f8", [2**40], "C", b""]))]),   # huge shape
    msgpack.packb([msgpack.ExtType(1, msgpack.packb(["<f8", [-1], "C", b""]))]),      # negative
    msgpack.packb([msgpack.ExtType(2, msgpack.packb(["<f8", [1], "C", 5]))]),         # no frame
    msgpack.packb([msgpack.ExtType(9, msgpack.packb(["|O", b"\0" * 8]))]),            # object scalar
    msgpack.packb([msgpack.ExtType(14, b"1" * 5000)]),                                 # huge int
    msgpack.packb([msgpack.ExtType(8, msgpack.packb({"address": 1}))]),                # bad proxy
    msgpack.packb([msgpack.ExtType(3, msgpack.packb(5))]),                             # tuple of int
    b"\xc1", b"\x92\x01", b"",
])
def test_decoder_regressions(body):
    with pytest.raises(SerializationError):
        MSGPACK.loads(body, [])


# -- the server loop -----------------------------------------------------------

class _Harness:
    """A server in a thread, a raw fuzzing socket and a well-behaved JSON pinger."""

    def __init__(self, **server_kwargs):
        self.server = RPCServer(**server_kwargs)
        self.server["echo"] = lambda x: x
        self.thread = threading.Thread(target=self.server.run_forever, daemon=True)
        self.thread.start()
        ctx = zmq.Context.instance()
        self.fuzzer = ctx.socket(zmq.DEALER)
        self.fuzzer.linger = 0
        self.fuzzer.connect(self.server.address)
        self.good = ctx.socket(zmq.DEALER)
        self.good.linger = 0
        self.good.connect(self.server.address)
        self.n = 0

    def ping(self) -> None:
        """The well-behaved client is still served."""
        self.n += 1
        self.good.send_multipart([b"json", json.dumps({"action": "ping", "req_id": self.n}).encode()])
        assert self.good.poll(10000), "server stopped answering"
        reply = json.loads(self.good.recv_multipart()[1])
        assert reply["req_id"] == self.n and reply["rval"] == "pong"

    def drain_fuzzer(self) -> list:
        """Collect every reply owed to the fuzzer, up to a ping sent on the same socket.

        The server fair-queues its peers, so the good client's pong says nothing about
        the fuzzer's pending replies; a ping on the fuzzer's own socket is answered
        only after all of them (one peer's requests are served in order).
        """
        self.n += 1
        barrier = {"action": "ping", "req_id": f"barrier-{self.n}"}
        self.fuzzer.send_multipart([b"json", json.dumps(barrier).encode()])
        out = []
        while True:
            assert self.fuzzer.poll(10000), "server stopped answering the fuzzer"
            reply = self.fuzzer.recv_multipart()
            if reply[0] == b"json" and len(reply) > 1:
                try:
                    if json.loads(reply[1]).get("req_id") == barrier["req_id"]:
                        return out
                except (ValueError, AttributeError):
                    pass
            out.append(reply)

    def close(self):
        self.server.close()
        self.thread.join(10)
        self.fuzzer.close()
        self.good.close()
        assert not self.thread.is_alive()


@pytest.fixture(scope="module")
def harness():
    h = _Harness()
    yield h
    h.close()


action_names = st.sampled_from(["call", "getattr", "setattr", "get", "transfer", "ping", "incref",
                                "release", "stats", "bogus", "", "CALL"])
field_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-3, 2**63),
                                      st.text(max_size=6), st.binary(max_size=6)),
                            lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                    st.dictionaries(st.text(max_size=3), inner,
                                                                    max_size=3)), max_leaves=8)
requests = st.fixed_dictionaries({"action": action_names}, optional={
    k: field_values for k in ["req_id", "obj", "attrs", "args", "kwargs", "name", "sync",
                              "return_type", "refs", "value"]})


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=st.lists(st.binary(max_size=64), min_size=1, max_size=4))
def test_server_survives_garbage_frames(harness, frames):
    harness.fuzzer.send_multipart(frames)
    harness.ping()
    harness.drain_fuzzer()


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(msg=requests, ser=st.sampled_from([b"msgpack", b"json"]), cut=st.integers(0, 200))
def test_server_survives_malformed_requests(harness, msg, ser, cut):
    body = msgpack.packb(msg, use_bin_type=True) if ser == b"msgpack" else \
        json.dumps(msg, default=repr).encode()
    harness.fuzzer.send_multipart([ser, body])
    harness.fuzzer.send_multipart([ser, body[:cut]])        # truncated copy
    harness.ping()
    harness.drain_fuzzer()


def test_bad_requests_get_error_replies(harness):
    sock = harness.fuzzer
    harness.drain_fuzzer()
    cases = [
        ([b"yaml", b"{}"], "unknown serializer"),
        ([b"json", b"{not json"], "malformed json"),
        ([b"json", b'{"action": "explode", "req_id": 7}'], "unknown action"),
        ([b"json", b'[1, 2]'], "must be a map"),
        ([b"msgpack", msgpack.packb({"action": "call", "req_id": 8})[:-3]], "malformed msgpack"),
        ([b"json"], "expected frames"),
        ([b"json", b'{"action": "call", "req_id": 9, "obj": 12345}'], "does not exist"),
    ]
    for frames, text in cases:
        sock.send_multipart(frames)
        assert sock.poll(5000)
        reply = sock.recv_multipart()
        assert reply[0] == b"json" or reply[0] == frames[0]
        decoded = json.loads(reply[1]) if reply[0] == b"json" else msgpack.unpackb(reply[1])
        assert text in decoded["error"]["message"], (frames, decoded)
    harness.ping()


def test_oversized_message_is_dropped_and_others_served():
    h = _Harness(max_message_size=1 << 20)
    try:
        h.fuzzer.send_multipart([b"msgpack", b"\x00" * (2 << 20)])   # peer gets disconnected
        h.ping()
        h.ping()
    finally:
        h.close()


ATHERIS_TARGET = os.path.join(os.path.dirname(__file__), "fuzz_atheris.py")


def test_atheris_decoder_fuzz():
    pytest.importorskip("atheris")
    out = subprocess.run([sys.executable, ATHERIS_TARGET, "-runs=30000", "-max_len=256"],
                         capture_output=True, text=True, timeout=100,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(ATHERIS_TARGET))))
    assert out.returncode == 0, out.stderr[-3000:]


# -- valid frames, mutated; hostile nesting (issue 14) ---------------------------------


import numpy as np  # noqa: E402

leaves = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(),
                   st.text(max_size=8), st.binary(max_size=8), st.complex_numbers(),
                   st.datetimes(), st.dates(), st.timedeltas(),
                   st.builds(lambda n, dt: np.arange(n).astype(dt), st.integers(0, 6),
                             st.sampled_from(["<f8", "<i2", "u1", "<c8", "?"])))
values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.text(max_size=4), inner, max_size=3),
    st.frozensets(st.integers(-9, 9), max_size=3)), max_leaves=20)


def mutate(data: bytes, edits: list) -> bytes:
    """Apply (position, kind, byte) edits: flip, insert, delete, truncate."""
    buf = bytearray(data)
    for pos, kind, byte in edits:
        if not buf:
            break
        pos %= len(buf)
        if kind == 0:
            buf[pos] ^= byte or 1
        elif kind == 1:
            buf.insert(pos, byte)
        elif kind == 2:
            del buf[pos]
        else:
            del buf[pos:]
    return bytes(buf)


edit_lists = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 3), st.integers(0, 255)),
                      min_size=1, max_size=6)


@settings(max_examples=examples(600), deadline=None)
@given(value=values, edits=edit_lists, ser=st.sampled_from([MSGPACK, JSON]))
def test_decoders_on_mutated_valid_frames(value, edits, ser):
    frames = ser.dumps({"action": "call", "req_id": 1, "args": [value]})
    decode_ok_or_serialization_error(ser, mutate(frames[0], edits), frames[1:])


def nest_msgpack(levels: int, kind: int) -> bytes:
    body = msgpack.packb(1)
    for _ in range(levels):
        body = msgpack.packb(msgpack.ExtType(kind, b"\x91" + body))
    return body


@settings(max_examples=examples(300), deadline=None)
@given(levels=st.integers(0, 400), kind=st.sampled_from([3, 10, 11, 99]),
       edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 3), st.integers(0, 255)),
                      max_size=3))
def test_msgpack_decoder_on_deep_ext_nesting(levels, kind, edits):
    body = mutate(nest_msgpack(levels, kind), edits) if edits else nest_msgpack(levels, kind)
    try:
        MSGPACK.loads(body)
    except SerializationError as exc:
        # refused only when damaged, of an unknown type, a set in a set (unhashable) or deep
        assert edits or kind == 99 or (kind == 10 and levels > 1) or levels > MAX_EXT_DEPTH, exc


@settings(max_examples=examples(300), deadline=None)
@given(levels=st.integers(0, 3000), opener=st.sampled_from(["[", '{"a":', '{"__type__":"tuple","items":[']),
       edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 3), st.integers(0, 255)),
                      max_size=3))
def test_json_decoder_on_deep_nesting(levels, opener, edits):
    closer = {"[": "]", '{"a":': "}", '{"__type__":"tuple","items":[': "]}"}[opener]
    body = (opener * levels + "1" + closer * levels).encode()
    decode_ok_or_serialization_error(JSON, mutate(body, edits) if edits else body)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=values, edits=edit_lists, ser=st.sampled_from([b"msgpack", b"json"]),
       levels=st.integers(0, 250))
def test_server_answers_or_counts_mutated_and_deep_requests(harness, value, edits, ser, levels):
    """Every damaged request gets an error reply or is counted as bad; the server lives."""
    serializer = MSGPACK if ser == b"msgpack" else JSON
    deep = value
    for _ in range(levels):
        deep = (deep,)
    try:
        frames = serializer.dumps({"action": "call", "req_id": 5, "name": "echo", "args": [deep]})
    except SerializationError:
        frames = [nest_msgpack(levels, 3)]
    before = harness.server.n_bad_requests
    harness.fuzzer.send_multipart([ser, mutate(frames[0], edits), *frames[1:]])
    replies = harness.drain_fuzzer()
    harness.ping()
    assert len(replies) <= 1       # one reply, or none (a release, sync='off', ...)
    for reply in replies:
        body = json.loads(reply[1]) if reply[0] == b"json" else \
            msgpack.unpackb(reply[1], raw=False, strict_map_key=False, ext_hook=lambda c, d: None)
        if body.get("action") == "error":            # refused: counted
            assert harness.server.n_bad_requests == before + 1


def test_bad_requests_are_counted(harness):
    before = harness.server.n_bad_requests
    harness.fuzzer.send_multipart([b"msgpack", nest_msgpack(300, 3)])
    harness.drain_fuzzer()
    assert harness.server.n_bad_requests == before + 1
