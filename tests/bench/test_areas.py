"""The benchmarks of nodes, storage, viewers and rpc run with tiny sizes and write JSON
(no timing assertions: speed is measured by `acqflow bench`, not by tests)."""
import json

import pytest

from acqflow.bench import nodes, storage, viewers
from acqflow.cli import main as cli_main


def test_nodes_bench_runs_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert nodes.main(["--seconds", "0.03", "--channels", "4", "--rate", "10000", "--budget", "2",
                       "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "SosFilter" in table and "RTF" in table and "MotionEnergy" in table
    data = json.loads(out.read_text())
    assert data["machine"]["cpus"] >= 1 and data["channels"] == 4
    assert {r["node"] for r in data["results"]} == set(nodes.CASES)
    assert all(r["samples_per_s"] > 0 and r["rtf"] > 0 for r in data["results"])


def test_storage_bench_runs_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert storage.main(["--mb", "2", "--channels", "16", "64", "--json", str(out),
                         "--dir", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "write MB/s" in table and "read MB/s" in table
    results = json.loads(out.read_text())["results"]
    assert [r["channels"] for r in results] == [16, 64]
    assert all(r["write_MBps"] > 0 and r["read_all_MBps"] > 0 and r["overflows"] == 0
               for r in results)


def test_viewers_bench_runs_and_writes_json(tmp_path, capsys):
    pytest.importorskip("pyqtgraph")
    out = tmp_path / "viewers.json"
    assert viewers.main(["--channels", "4", "--rate", "2000", "--seconds", "0.3", "--size", "400x300",
                         "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "fps" in table and "paint ms" in table
    (result,) = json.loads(out.read_text())["results"]
    assert result["channels"] == 4 and result["fps"] > 0 and result["dropped"] == 0


def test_rpc_bench_prints_bare_pyzmq_round_trips_beside_sync_calls(tmp_path, capsys):
    out = tmp_path / "rpc.json"
    assert cli_main(["bench", "rpc", "--scale", "0.1", "--block", "50", "--repeats", "2",
                     "--json", str(out)]) == 0
    table = capsys.readouterr().out
    lines = table.splitlines()
    names = [line.split()[0] for line in lines[1:]]
    assert names.index("raw_zmq_round_trips_per_s") + 1 == names.index("sync_calls_per_s")
    assert "sync_over_bare_zmq" in names
    results = json.loads(out.read_text())["results"]
    assert results["sync_over_bare_zmq"]["best"] > 0
    assert results["sync_over_bare_zmq"]["target"] == 0.85


def test_rpc_bench_alternates_blocks_of_sync_calls_and_bare_round_trips():
    from acqflow.bench.rpc import alternating
    calls = []
    t_a, t_b = alternating(lambda m: calls.append(("a", m)), lambda m: calls.append(("b", m)), 700, 300)
    # a b, b a, a b: each side gets every item, neither always goes first
    assert calls == [("a", 300), ("b", 300), ("b", 300), ("a", 300), ("a", 100), ("b", 100)]
    assert t_a >= 0 and t_b >= 0


def test_rpc_bench_rejects_a_block_below_one(capsys):
    with pytest.raises(SystemExit):
        cli_main(["bench", "rpc", "--block", "0"])
    assert "--block must be an int >= 1, got 0" in capsys.readouterr().err
