"""The stream benchmark's options, run with tiny sizes and durations: the reader reading
every byte or not, the ceilings, the --hops chain and the drop-mode overload case.
No timing assertions: figures vary with the machine."""
import json
import os
import subprocess
import sys

import numpy as np

from acqflow.bench import AREAS, split_area
from acqflow.bench.ceilings import ring_copy_rate, zmq_pubsub_rate
from acqflow.bench.hops import run_chain
from acqflow.bench.streams import overload

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def acqflow(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "acqflow.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_area_as_word_or_flag():
    assert split_area(["rpc", "--repeats", "1"]) == ("rpc", ["--repeats", "1"])
    assert split_area(["--repeats", "1", "--rpc"]) == ("rpc", ["--repeats", "1"])
    assert split_area(["--soak", "2"]) == ("soak", ["2"])
    assert split_area(["--seconds", "1"]) == ("streams", ["--seconds", "1"])


def test_unknown_area_is_named():
    result = acqflow("bench", "rcp")
    assert result.returncode == 2 and "unknown area 'rcp'; choose from streams, rpc" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_the_areas_and_the_stream_options():
    result = acqflow("bench", "--help")
    assert result.returncode == 0, result.stderr
    for area in AREAS:
        assert f"  {area} " in result.stdout
    assert "--hops N" in result.stdout and "--no-touch" in result.stdout


def test_no_touch_with_ceilings_beside_sharedmem_and_large_tcp_rows(tmp_path):
    out = tmp_path / "bench.json"
    result = acqflow("bench", "streams", "--seconds", "0.1", "--sizes", "4MiB", "--no-touch", "--no-overload",
                     "--json", str(out), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "does not read the data" in result.stdout
    rows = {(r["protocol"], r["transfermode"]): r for r in json.loads(out.read_text())["results"]}
    assert all(not r["touch"] for r in rows.values())
    assert rows["tcp", "sharedmem"]["ceiling"] == "ring in+out"
    assert rows["tcp", "plaindata"]["ceiling"] == rows["ipc", "plaindata"]["ceiling"] == "bare pyzmq"
    assert rows["inproc", "plaindata"]["ceiling"] is None
    assert all(r["ceiling_mb_per_s"] > 0 for r in rows.values() if r["ceiling"])


def test_ceilings_measure_something():
    chunk = np.ones((1024, 16), np.float32)
    assert ring_copy_rate(chunk, 4096, seconds=0.01) > 0
    assert ring_copy_rate(chunk, 4096, double=True, touch=False, seconds=0.01) > 0
    for protocol in ("tcp", "ipc"):
        assert zmq_pubsub_rate(1 << 16, protocol, hwm=4, seconds=0.1) > 0


def test_hops_chain_delivers_every_chunk_and_reports_latency():
    r = run_chain(3, rate=500, seconds=0.3)
    assert r["processes"] == 4 and r["sent"] == r["received"] > 0 and r["dropped"] == 0
    assert 0 < r["p50_us"] <= r["p99_us"]


def test_hops_command_line(tmp_path):
    out = tmp_path / "hops.json"
    result = acqflow("bench", "--hops", "2", "--hop-seconds", "0.3", "--hop-rate", "500",
                     "--hop-mode", "plaindata", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "2 hops, 3 processes" in result.stdout and "end to end: p50" in result.stdout
    assert "floor, a bare Python hop" in result.stdout and "--hop-spin 1 --cpu-latency 0" in result.stdout
    r = json.loads(out.read_text())["results"]
    assert r["transfermode"] == "plaindata" and 0 < r["bare_hop_p50_us"] <= r["bare_hop_p99_us"]
    bad = acqflow("bench", "--hops", "0")
    assert bad.returncode == 2 and "--hops must be an int >= 1, got 0" in bad.stderr
    bad = acqflow("bench", "--hops", "1", "--hop-spin", "-1")
    assert bad.returncode == 2 and "--hop-spin must be >= 0 ms, got -1.0" in bad.stderr


def test_cpu_latency_option_is_held_and_recorded(tmp_path):
    from acqflow.dataflow.cpulatency import DEVICE
    bad = acqflow("bench", "--hops", "1", "--cpu-latency", "-2")
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "acqflow bench: --cpu-latency: CPU latency (microseconds) must be an int in 0..2147483647, got -2")
    if not os.access(DEVICE, os.R_OK | os.W_OK):
        return                                   # the refusal above is all this machine allows
    out = tmp_path / "hops.json"
    result = acqflow("bench", "--hops", "1", "--hop-seconds", "0.3", "--hop-rate", "500", "--no-ceilings",
                     "--cpu-latency", "0", "--hop-spin", "0.5", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "'cpu_latency_us': 0" in result.stdout
    assert json.loads(out.read_text())["machine"]["cpu_latency_us"] == 0


def test_spinning_readers_in_the_chain():
    r = run_chain(2, rate=500, seconds=0.3, spin=0.5)
    assert r["spin_ms"] == 0.5 and r["sent"] == r["received"] > 0 and r["dropped"] == 0


def test_overload_in_drop_mode_accounts_received_plus_dropped_against_sent(capsys):
    rows = overload(seconds=0.3, delay=0.002)
    assert {r["transfermode"] for r in rows} == {"plaindata", "sharedmem"}
    for r in rows:
        assert r["sent"] > 0 and r["received"] > 0
        assert r["received"] + r["dropped"] <= r["sent"]
    assert "received" in capsys.readouterr().out
