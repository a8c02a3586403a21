"""Stream between two OS processes: a child process sends, this one receives.

The output's params (a plain dict) are all an input needs to connect; here they
travel over the child's stdout.  Run: python examples/streams_processes.py
"""
import json
import subprocess
import sys

import acqflow
from acqflow.interrupt import quiet_interrupt

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

SENDER = r"""
import json, sys
import numpy as np
import acqflow
from acqflow.interrupt import quiet_interrupt
quiet_interrupt(None)                     # Ctrl-C reaches this child too: end quietly
out = acqflow.OutputStream()
out.configure(protocol="tcp", transfermode="plaindata", dtype="int32", shape=(-1, 2))
print(json.dumps(out.params), flush=True)
sys.stdin.readline()                      # wait until the receiver is connected
for k in range(10):
    out.send(np.arange(2 * 5 * k, 2 * 5 * (k + 1), dtype="int32").reshape(5, 2))
out.close()
"""

child = subprocess.Popen([sys.executable, "-c", SENDER], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
params = json.loads(child.stdout.readline())
inp = acqflow.InputStream()
inp.connect(params)
child.stdin.write("go\n")
child.stdin.flush()
received = []
while True:
    try:
        index, data = inp.recv(timeout=5000)
    except acqflow.StreamClosed:
        break
    received.append(data.copy())
child.wait()
inp.close()
print(f"received {sum(len(d) for d in received)} samples in {len(received)} chunks; "
      f"last index {index}, last sample {received[-1][-1]}, gaps {inp.gaps}, dropped {inp.dropped}")
