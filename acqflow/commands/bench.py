"""``acqflow bench <area> [options]``: every benchmark and the soak test, on one harness.

Benchmarks may import anything in acqflow; nothing in the working packages imports
``acqflow.bench``.  Each area is one module with ``main(argv) -> int``; the area is
given as a word (``acqflow bench rpc``) or, as before, as a flag (``acqflow bench --rpc``);
without one the stream benchmark runs.
"""
from __future__ import annotations

import importlib
import sys

from ..bench import AREAS

__all__ = ["main", "split_area", "usage"]


def usage() -> str:
    """The areas, one line each (``acqflow bench --help``)."""
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
