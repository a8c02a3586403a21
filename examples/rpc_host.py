"""Spawn a process through a host daemon secured with CurveZMQ keys.

On a real deployment run `acqflow keys DIR` once, copy DIR to every host, start
`acqflow host --bind tcp://HOST_IP:5555 --keys DIR` on each, then connect as below.
This example does it all on loopback.

Run: python examples/rpc_host.py
"""
import subprocess
import sys
import tempfile

from acqflow.interrupt import quiet_interrupt
from acqflow.rpc import keys
from acqflow.rpc.hostdaemon import HostClient

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

with tempfile.TemporaryDirectory() as tmp:
    keys.generate(tmp)
    daemon = subprocess.Popen([sys.executable, "-m", "acqflow.commands", "host", "--bind",
                               "tcp://127.0.0.1:*", "--keys", tmp], stdout=subprocess.PIPE, text=True)
    try:
        address = daemon.stdout.readline().split()[4]
        host = HostClient(address, tmp)
        remote = host.spawn("remote-worker")
        print("spawned", remote.name, "pid", remote.client.import_module("os").getpid(),
              "at", remote.address)
        print("processes on the host:", [p["name"] for p in host.list()])
        print("exit code:", remote.stop())
    finally:
        daemon.terminate()
        daemon.wait(30)
