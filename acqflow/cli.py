"""The `acqflow` command: demo, run, bench, host, keys, rec, lsl, compat; --version."""
from __future__ import annotations

import argparse
import importlib
import os
import sys

__all__ = ["main"]

# sub-command: (module, help); each module has main(argv) -> int
COMMANDS = {
    "demo": ("acqflow.demo", "stream a synthetic signal across three processes (device, filter, recorder), live"),
    "run": ("acqflow.manager.run", "run a YAML graph file with a live console table"),
    "bench": ("acqflow.bench", "measure streams (default), rpc, storage, rec, nodes, video, viewers; soak MINUTES"),
    "host": ("acqflow.rpc.hostdaemon", "serve spawn requests from remote managers"),
    "keys": ("acqflow.rpc.keys", "generate CurveZMQ key pairs for remote hosts"),
    "rec": ("acqflow.storage.cli", "inspect, verify, export and upload recordings"),
    "lsl": ("acqflow.lsl.cli", "record every visible LSL stream into one recording"),
    "compat": ("acqflow.compat.pth", "install-pyacq / uninstall-pyacq: `import pyacq` in every process"),
}


def main(argv: list[str] | None = None) -> int:
    """The ``acqflow`` command: parse ``argv`` (default: sys.argv), run the sub-command; the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="acqflow", description="acqflow: real-time acquisition dataflow")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, text) in COMMANDS.items():
        sub.add_parser(name, help=text, add_help=False)
    parser.add_argument("--version", action="store_true", help="show acqflow's version and exit")
    if argv[:1] == ["--version"]:
        from . import __version__             # package metadata: read only when asked for
        print(f"acqflow {__version__}")
        return 0
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        parser.error(f"unknown command {command!r}; choose from {', '.join(COMMANDS)}")
    try:
        code = importlib.import_module(COMMANDS[command][0]).main(rest)
        sys.stdout.flush()                    # a reader gone (`| head`) shows here, not at exit
    except BrokenPipeError:                   # Python's recipe: exit quietly, status 1
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
