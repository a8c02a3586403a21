"""pyacq's "Streaming between processes": a remote InputStream connects to a local
OutputStream through RPC, exactly as if both were local.

Run: python examples/rpc_streams.py
"""
import numpy as np

import acqflow
from acqflow.interrupt import quiet_interrupt
from acqflow.rpc import ProcessSpawner, RPCServer

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

# A local RPC server lets the remote InputStream query our OutputStream
# (it is served while this thread waits for replies).
s = RPCServer()
s.run_lazy()

o = acqflow.OutputStream()
o.configure(dtype="float32", shape=(-1, 2))

p = ProcessSpawner()
racq = p.client.import_module("acqflow")
i = racq.InputStream()
i.connect(o)                       # o travels as a proxy; the child asks us for o.params

o.send(np.arange(6, dtype="float32").reshape(3, 2))
index, data = i.recv(timeout=5000)
print("the child received", index, "samples:\n", data)

i.close()
p.stop()
o.close()
s.close()
