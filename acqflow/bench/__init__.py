"""Every benchmark and the soak test, on one harness (``acqflow bench <area>``, dispatched by
acqflow.commands.bench).  Benchmarks may import anything in acqflow; nothing in the working
packages imports ``acqflow.bench``.  Each area is one module with ``main(argv) -> int``."""
from __future__ import annotations

__all__ = ["AREAS"]

# area: (module, what it measures)
AREAS = {
    "streams": ("acqflow.bench.streams", "stream throughput and latency between processes (default); "
                                         "--hops N for a chain, overload in drop mode"),
    "rpc": ("acqflow.bench.rpc", "RPC sync/async calls and 4 MiB arrays, beside bare pyzmq round trips"),
    "nodes": ("acqflow.bench.nodes", "in-process throughput of each processing node"),
    "rec": ("acqflow.bench.rec", "Recorder to local disk, random slices of a long recording"),
    "storage": ("acqflow.bench.storage", "recording write and read throughput"),
    "video": ("acqflow.bench.video", "video into a Recorder per codec (frames/s, CPU, bytes, PSNR, random reads) "
                                     "beside PyAV alone and OpenCV"),
    "viewers": ("acqflow.bench.viewers", "oscilloscope frames per second (Qt, offscreen)"),
    "startup": ("acqflow.bench.startup", "import times of acqflow, .nodes, .devices; acqflow run's README graph "
                                         "until its first table"),
    "soak": ("acqflow.bench.soak", "MINUTES of a 3-process graph checked for loss, leaks and memory"),
}
