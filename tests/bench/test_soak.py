"""The soak test, short: 3 processes at 100 MB/s aggregate with backpressure='block'
for 30 s (``acqflow bench soak MINUTES`` runs the long one)."""
import json
import os

import pytest

from acqflow.manager import Manager
from acqflow.bench.soak import _prime, _settled_fds, fd_count, open_fds, run_soak
from acqflow.commands import main as cli_main

pytestmark = pytest.mark.timeout(240)


def test_soak_30s_no_loss_no_growth_no_leaks(capsys):
    res = run_soak(30, mb_per_s=100.0, warmup=5)
    out = capsys.readouterr().out
    assert "soak: PASSED" in out, out
    assert res["sent_samples"] == res["received_samples"] > 0
    assert res["sink"]["bad_chunks"] == 0 and res["sink"]["n_jumps"] == 0
    assert all(res["checks"].values()), res["checks"]
    print(json.dumps({k: res[k] for k in ("aggregate_mb_per_s", "stream_mb_per_s", "rss_mib",
                                           "fds_before", "fds_after")}))


def test_closing_a_manager_closes_its_clients_to_the_group_processes():
    # regression: each closed group left this thread's RPC client (a ZeroMQ socket,
    # so file descriptors) open
    _prime()
    before, named = fd_count(), open_fds()
    for _ in range(3):
        with Manager(heartbeat=0.25) as manager:
            manager.create_nodegroup("g1")
            manager.create_nodegroup("g2")
            manager.refresh()
    after = _settled_fds(before)
    assert after <= before, sorted(set(open_fds().values()) - set(named.values()))


def test_bench_soak_command_line(tmp_path):
    path = tmp_path / "soak.json"
    assert cli_main(["bench", "--soak", "0.05", "--warmup", "2", "--mb", "20",
                     "--json", str(path)]) == 0
    res = json.loads(path.read_text())["results"]
    assert res["ok"] and res["seconds"] == pytest.approx(3.0)
    assert os.path.getsize(path) > 0


def test_process_checks_count_and_name_descriptors(tmp_path):
    """fd_count/open_fds/rss_mib (psutil) see a file and a socket this test opens."""
    import socket

    from acqflow.bench.soak import rss_mib
    before = fd_count()
    with open(tmp_path / "held.txt", "w") as f, socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert fd_count() == before + 2
        named = open_fds()
        assert named[f.fileno()] == str(tmp_path / "held.txt")
        assert named[s.fileno()].startswith("socket AF_INET 127.0.0.1:")
    assert fd_count() == before
    assert rss_mib(os.getpid()) > 1.0
