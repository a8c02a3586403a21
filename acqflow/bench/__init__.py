"""Every benchmark and the soak test, on one harness: ``acqflow bench <area> [options]``.

Benchmarks may import anything in acqflow; nothing in the working packages imports
``acqflow.bench``.  Each area is one module with ``main(argv) -> int``; the area is
given as a word (``acqflow bench rpc``) or, as before, as a flag (``acqflow bench --rpc``);
without one the stream benchmark runs.
"""
from __future__ import annotations

import importlib
import sys

__all__ = ["AREAS", "main"]

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


def usage() -> str:
    lines = ["usage: acqflow bench [AREA | --AREA] [options]   (AREA --help for its options)", "",
             "areas (a word or a flag):"]
    lines += [f"  {name:<8} {'--' + name:<10} {text}" for name, (_, text) in AREAS.items()]
    return "\n".join(lines)


def split_area(argv: list[str]) -> tuple[str, list[str]]:
    """(area, the rest of argv): the area from a leading word or an ``--area`` flag."""
    if argv and argv[0] in AREAS:
        return argv[0], argv[1:]
    for name in AREAS:
        if f"--{name}" in argv:
            return name, [a for a in argv if a != f"--{name}"]
    return "streams", argv


def main(argv: list[str] | None = None) -> int:
    """``acqflow bench``: run the benchmark of one area."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("-h", "--help"):
        print(usage())
        print("\nstream transport options: (no area, or 'streams')\n")
        try:
            importlib.import_module(AREAS["streams"][0]).main(["--help"])
        except SystemExit:       # argparse's --help exits
            pass
        return 0
    if argv and not argv[0].startswith("-") and argv[0] not in AREAS:
        print(f"acqflow bench: unknown area {argv[0][:40]!r}; choose from {', '.join(AREAS)}", file=sys.stderr)
        return 2
    area, rest = split_area(argv)
    return importlib.import_module(AREAS[area][0]).main(rest)


if __name__ == "__main__":
    sys.exit(main())
