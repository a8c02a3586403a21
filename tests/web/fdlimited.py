"""A manager with one node and a web monitor, in a process whose descriptor limit is
lowered so that ~100 sockets exhaust it: ``python -m tests.web.fdlimited SOFT MAXCONN TOKEN``.
Prints ``PORT <port>`` when serving; exits when its stdin closes."""
import logging
import resource
import sys

from acqflow.dataflow.graph.graphspec import GraphSpec
from acqflow.manager import Manager
from acqflow.manager.build import build_graph


def main() -> None:
    soft, max_connections, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    spec = GraphSpec.from_dict({"nodes": {"device": {"type": "SyntheticSignal", "params": {"channels": 2}}}})
    with Manager() as manager:
        build_graph(spec, manager)
        manager.start_all()
        with manager.serve_web("127.0.0.1:0", token=token, announce=False, interval=0.25,
                               max_connections=max_connections, max_websockets=4) as monitor:
            print("PORT", monitor.port, flush=True)
            sys.stdin.read()


if __name__ == "__main__":
    main()
