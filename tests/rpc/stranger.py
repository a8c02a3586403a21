"""Another local user's attempts on acqflow's endpoints, with plain pyzmq and sockets only.

Run as ``python stranger.py MODE ADDRESS`` under another uid; prints one word per step:

- ``unix PATH``: a raw AF_UNIX connect: ``refused`` or ``connected``;
- ``sub URL``: a SUB socket subscribed to everything (and a forged handshake) that never
  reads: ``connected``/``not-connected`` once ZeroMQ's handshake did (not) succeed within
  3 s, then, after a line on stdin, the number of messages it was sent;
- ``rpc URL``: a JSON ``ping`` request to an RPC server: ``answered`` or ``no-answer``.
"""
import json
import socket
import sys
import time

import zmq
from zmq.utils.monitor import recv_monitor_message


def unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return "connected"
    except OSError:          # PermissionError (0700 directory), or no such socket
        return "refused"
    finally:
        s.close()


def sub(url):
    ctx = zmq.Context.instance()
    s = ctx.socket(zmq.SUB)
    s.setsockopt(zmq.RCVHWM, 1)
    s.setsockopt(zmq.RCVBUF, 4096)
    s.linger = 0
    ok = handshake_after(s, lambda: s.connect(url))
    s.setsockopt(zmq.SUBSCRIBE, b"")
    s.setsockopt(zmq.SUBSCRIBE, b"A" + b"t" * 12 + bytes(16) + b"M")   # a handshake without the key
    print("connected" if ok else "not-connected", flush=True)
    sys.stdin.readline()          # the test sends its data meanwhile; we never read
    n, deadline = 0, time.monotonic() + 2    # (an output sends heartbeats while idle)
    while time.monotonic() < deadline and s.poll(300):
        s.recv_multipart()
        n += 1
    print(n, flush=True)


def handshake_after(sock, connect):
    mon = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    connect()
    try:
        return bool(mon.poll(3000)) and recv_monitor_message(mon)["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED
    finally:
        sock.disable_monitor()
        mon.close(0)


def rpc(url):
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.linger = 0
    s.connect(url)
    s.send_multipart([b"json", json.dumps({"action": "ping", "req_id": 1}).encode()])
    return "answered" if s.poll(3000) else "no-answer"


if __name__ == "__main__":
    mode, address = sys.argv[1], sys.argv[2]
    if mode == "unix":
        print(unix(address), flush=True)
    elif mode == "sub":
        sub(address)
    else:
        print(rpc(address), flush=True)
