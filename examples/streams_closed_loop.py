"""A closed loop's hop: shared memory, a spinning input, and the CPU kept awake.

A child process sends 2 KiB chunks 1,000 times a second through a sharedmem
stream; this process reads them with ``InputStream(spin=1)`` (it busy-waits up
to 1 ms for the next chunk instead of sleeping) while holding a
``CpuLatencyRequest(0)`` (idle cores poll instead of halting; needs root, and
the loop runs without it otherwise).  It prints the latency of the chunks, from
the moment send() published each one to recv() returning it here (the input's
``last_latency``).  Run: python examples/streams_closed_loop.py
"""
import json
import subprocess
import sys
from contextlib import nullcontext

import numpy as np

import acqflow
from acqflow.dataflow.streams.cpulatency import CpuLatencyError
from acqflow.interrupt import quiet_interrupt

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

SENDER = r"""
import json, sys, time
import numpy as np
import acqflow
from acqflow.interrupt import quiet_interrupt
quiet_interrupt(None)                     # Ctrl-C reaches this child too: end quietly
out = acqflow.OutputStream()
out.configure(transfermode="sharedmem", dtype="float64", shape=(-1, 8), buffer_size=4096,
              backpressure="block")
print(json.dumps(out.params), flush=True)
sys.stdin.readline()                      # wait until the receiver is connected
chunk = np.zeros((32, 8))
start = time.monotonic()
for k in range(2000):
    time.sleep(max(0.0, start + k / 1000 - time.monotonic()))
    chunk[:] = k
    out.send(chunk)
out.close()
"""

try:
    awake = acqflow.CpuLatencyRequest(0)
    why = "held"
except CpuLatencyError as exc:
    awake = nullcontext()
    why = f"not held ({exc})"

child = subprocess.Popen([sys.executable, "-c", SENDER], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
params = json.loads(child.stdout.readline())
inp = acqflow.InputStream(spin=1)
inp.connect(params)
child.stdin.write("go\n")
child.stdin.flush()
chunks, latencies = 0, []
with awake:
    while True:
        try:
            index, data = inp.recv(timeout=5000, return_data=True)
        except acqflow.StreamClosed:
            break
        chunks += 1
        latencies.append(inp.last_latency)
child.wait()
inp.close()
lat = np.array(latencies[200:]) * 1e6            # past the first 0.2 s
print(f"CPU latency request: {why}")
print(f"received {chunks} chunks, last index {index}, gaps {inp.gaps}, dropped {inp.dropped}")
print(f"latency: p50 {np.percentile(lat, 50):.0f} us, p99 {np.percentile(lat, 99):.0f} us")
