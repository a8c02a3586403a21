"""A stream end in its own OS process, driven by JSON lines on stdin/stdout.

Commands (one JSON object per line): {"cmd": "output", "params": {...}} configures
an OutputStream and answers its params; {"cmd": "send", "streamtype": s,
"chunks": [[n, index_or_null], ...]} sends reference chunks (a third item, when given:
the chunk's sample time in seconds after the peer's clock.now() at the command, then
answered as "t0"); {"cmd": "close"}
closes and exits.  Run as ``python -m tests.dataflow.peer``.
"""
import json
import sys

from acqflow import OutputStream
from acqflow.dataflow.streams import clock
from tests.dataflow.streamdata import make_chunk


def reply(obj) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> None:
    out = OutputStream(name="peer")
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "output":
            out.configure(**msg["params"])
            reply({k: v for k, v in out.params.items() if k != "filters"})
        elif msg["cmd"] == "send":
            pos = out.index
            t0 = clock.now()
            for n, index, *when in msg["chunks"]:
                end = pos + n if index is None else index
                out.send(make_chunk(msg["streamtype"], end - n, n), index=end,
                         time=t0 + when[0] if when else None)
                pos = end
            timed = any(len(c) > 2 for c in msg["chunks"])
            reply({"sent": out.index, "t0": t0} if timed else {"sent": out.index})
        elif msg["cmd"] == "close":
            out.close()
            reply({"closed": True})
            return


if __name__ == "__main__":
    main()
