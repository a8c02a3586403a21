"""The `acqflow` command: dispatches to one module of acqflow.commands per sub-command."""
from __future__ import annotations

import argparse
import importlib
import os
import sys

__all__ = ["main"]

# sub-command: (module, help); each module has main(argv) -> int
COMMANDS = {
    "demo": ("acqflow.commands.demo",
             "stream a synthetic signal across three processes (device, filter, recorder), live"),
    "run": ("acqflow.commands.run", "run a YAML graph file with a live console table"),
    "bench": ("acqflow.commands.bench",
              "measure streams (default), rpc, storage, rec, nodes, video, viewers; soak MINUTES"),
    "host": ("acqflow.commands.host", "serve spawn requests from remote managers"),
    "keys": ("acqflow.commands.keys", "generate CurveZMQ key pairs for remote hosts"),
    "clock": ("acqflow.commands.clock", "measure the offset of an RPC server's clock to this one"),
    "rec": ("acqflow.commands.rec", "inspect, verify, export and upload recordings"),
    "lsl": ("acqflow.commands.lsl", "record every visible LSL stream into one recording"),
    "compat": ("acqflow.commands.compat", "install-pyacq / uninstall-pyacq: `import pyacq` in every process"),
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
        from .. import __version__            # package metadata: read only when asked for
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

