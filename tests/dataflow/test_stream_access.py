"""Who an output serves: only inputs holding its params (the stream key), over private ipc by
default, encrypted (CurveZMQ) over tcp off loopback; nobody else can read or stall it."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import zmq

from acqflow import InputStream, OutputStream
from acqflow.dataflow.streams.private import private_dir
from acqflow.dataflow.streams.wire import ACK, TOPIC

from .streamdata import sends_freely

pytestmark = pytest.mark.timeout(120)


def configured(**params):
    """An output whose queue length is right from the start (``chunksize``): raising it
    after an input left crashes libzmq 4.3.5 (see Publisher.set_hwm)."""
    out = OutputStream(name="guarded")
    out.configure(dtype="float32", shape=(-1, 4), chunksize=2, **params)
    return out


def roundtrip(out, params=None):
    inp = InputStream()
    inp.connect(json.loads(json.dumps(params or out.params)))    # as they travel between processes
    try:
        out.send(np.arange(8, dtype="float32").reshape(2, 4))
        index, data = inp.recv(timeout=5000)
        assert index == out.index and np.asarray(data).tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    finally:
        inp.close()


def never_reading(url, subscriptions=(b"",), curve_key=None):
    """A plain SUB socket on ``url`` that subscribes and never reads (RCVHWM 1)."""
    sock = zmq.Context.instance().socket(zmq.SUB)
    sock.setsockopt(zmq.RCVHWM, 1)
    sock.linger = 0
    if curve_key:
        sock.curve_serverkey = curve_key.encode()
        sock.curve_publickey, sock.curve_secretkey = zmq.curve_keypair()
    sock.connect(url)
    for topic in subscriptions:
        sock.setsockopt(zmq.SUBSCRIBE, topic)
    return sock


def test_the_default_is_private_ipc_with_a_fresh_stream_key():
    out = configured()
    try:
        assert out.params["protocol"] == "ipc" and out.params["curve_key"] is None
        path = out.params["url"][len("ipc://"):]
        assert os.path.dirname(path) == str(private_dir())
        key = out.params["stream_key"]
        assert len(bytes.fromhex(key)) == 16
        roundtrip(out)
        out.close()
        out.configure(dtype="float32", shape=(-1, 4))
        assert out.params["stream_key"] != key          # old params stop working
    finally:
        out.close()
    assert not os.path.exists(path)


@pytest.mark.parametrize("protocol", ["ipc", "tcp"])
def test_without_the_stream_key_an_input_gets_no_answer(protocol):
    out = configured(protocol=protocol)
    try:
        forged = dict(out.params, stream_key=os.urandom(16).hex())
        with pytest.raises(TimeoutError, match="stream_key"):
            InputStream().connect(forged, timeout=500)
        assert out.n_inputs == 0 and out._publisher.refused >= 1
        roundtrip(out)                                    # the right one still works
    finally:
        out.close()


@pytest.mark.parametrize("protocol", ["ipc", "tcp"])
@pytest.mark.parametrize("backpressure", ["drop", "block"])
def test_a_subscriber_that_is_not_an_accepted_input_gets_nothing_and_stalls_nothing(protocol, backpressure):
    out = configured(protocol=protocol, backpressure=backpressure, hwm=2)
    strangers = [never_reading(out.params["url"]),
                 never_reading(out.params["url"], [TOPIC, ACK + b"t" * 12 + bytes(16) + TOPIC])]
    try:
        assert sends_freely(out), "a subscription that never reads stalled the output"
        assert [s.poll(200) for s in strangers] == [0, 0]
        assert out.n_inputs == 0
    finally:
        for s in strangers:
            s.close()
        out.close()


LONG_SUBSCRIPTION = """
import os, sys, zmq
s = zmq.Context.instance().socket(zmq.XSUB)
s.connect(sys.argv[1])
s.send(b"\\x01A" + b"x" * (1 << 20))     # kept by libzmq as a trie 1 MB deep
s.poll(500)
os._exit(0)                             # (destroying its own copy would crash this process)
"""


def test_a_huge_subscription_is_dropped_on_arrival():
    out = configured(protocol="tcp")
    try:
        done = subprocess.run([sys.executable, "-c", LONG_SUBSCRIPTION, out.params["url"]],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        roundtrip(out)
        assert out._publisher.refused == 0       # dropped on arrival: never stored, never read
    finally:
        out.close()


def test_tcp_off_loopback_is_encrypted_and_insecure_is_explicit():
    out = configured(protocol="tcp", interface="0.0.0.0")
    try:
        assert out.params["curve_key"]
        roundtrip(out)
        plain = never_reading(out.params["url"])            # no Curve: the handshake fails
        keyed = never_reading(out.params["url"], curve_key=out.params["curve_key"])   # no stream key
        assert sends_freely(out, 50)
        assert plain.poll(300) == 0 and keyed.poll(300) == 0
        plain.close()
        keyed.close()
    finally:
        out.close()
    out = configured(protocol="tcp", interface="0.0.0.0", insecure=True)
    try:
        assert out.params["curve_key"] is None
        roundtrip(out)
    finally:
        out.close()
    loop = configured(protocol="tcp")                        # loopback: no encryption needed
    assert loop.params["curve_key"] is None
    loop.close()
