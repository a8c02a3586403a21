"""Spawn a Python process, use its modules through proxies, then stop it.

Run: python examples/rpc_basic.py
"""
import logging

import numpy as np

from acqflow.interrupt import quiet_interrupt
from acqflow.rpc import ProcessSpawner, RemoteCallError, get_value

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

logging.basicConfig(level=logging.INFO, format="%(processName)s %(name)s: %(message)s")

proc = ProcessSpawner(name="worker")
rnp = proc.client.import_module("numpy")          # a proxy to numpy in the child

arr = rnp.linspace(0, 1, 5)                         # arrays come back by value
print("linspace from the child:", arr)

rlist = proc.client.transfer([3, 1, 2])             # a list living in the child
rlist.sort()
print("sorted remotely:", get_value(rlist))

future = rnp.sum(np.arange(1000), _sync="async")    # asynchronous call
print("async sum:", future.result(timeout=10))

proc.client.import_module("builtins").print("this line is forwarded to our logging")
try:
    rnp.zeros(-1)                                  # raises ValueError in the child
except RemoteCallError as exc:
    print("remote error:", exc.remote_type, "-", exc.remote_message)

print("exit code:", proc.stop())
