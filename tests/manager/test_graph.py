"""Graph files: validation with clear errors, `acqflow run`, clean shutdown."""
import os
import signal
import subprocess
import sys

import psutil
import pytest
import yaml

from acqflow.dataflow.graph import GraphError, GraphSpec, load_graph
from acqflow.testing import wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOOD = {
    "imports": ["tests.manager.testnodes"],
    "groups": {"acq": {}, "proc": {}},
    "nodes": {
        "src": {"type": "Ramp", "group": "acq", "params": {"rate": 1000, "chunk": 10}},
        "gain": {"type": "TestGain", "group": "proc", "params": {"gain": 3}},
    },
    "connections": [{"from": "src.signals", "to": "gain.input"}],
}


def graph(**changes):
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    for key, value in changes.items():
        data[key] = value
    return data


def problems(data):
    with pytest.raises(GraphError) as err:
        GraphSpec.from_dict(data, source="test.yaml")
    return err.value.problems


def test_good_graph_validates():
    spec = GraphSpec.from_dict(graph())
    assert spec.order() == ["src", "gain"]
    assert spec.nodes["gain"].params == {"gain": 3}


@pytest.mark.parametrize("changes, expected", [
    (dict(nodes={"src": {"type": "Rampp"}}),
     "nodes.src.type: unknown node type 'Rampp' (did you mean 'Ramp'?); known types:"),
    (dict(connections=[{"from": "src.sigs", "to": "gain.input"}]),
     "connections[0].from: Ramp node 'src' has no output 'sigs' (outputs: signals)"),
    (dict(connections=[{"from": "src.signals", "to": "gain.in"}]),
     "connections[0].to: TestGain node 'gain' has no input 'in' (inputs: input)"),
    (dict(connections=[{"from": "nope.signals", "to": "gain.input"}]), "unknown node 'nope'"),
    (dict(connections=[]), "nodes.gain: input 'input' is not connected"),
    (dict(connections=[{"from": "src.signals", "to": "gain.input", "params": {"protocol": "udp"}}]),
     "stream src.signals: protocol='udp' is not one of tcp, inproc, ipc"),
    (dict(connections=[{"from": "src.signals", "to": "gain.input",
                        "params": {"protocol": "udp", "backpressure": "wait"}}]),
     "stream src.signals: backpressure='wait' is not one of drop, block"),
    (dict(nodes={**GOOD["nodes"], "idle": {"type": "Ramp", "group": "acq",
                                           "outputs": {"signals": {"transfermode": "shm"}}}}),
     "nodes.idle.outputs.signals: transfermode='shm' is not one of plaindata, sharedmem"),
    (dict(connections=[{"from": "src.signals", "to": "gain.input", "spin": -1}]),
     "connections[0].spin must be >= 0 ms and finite, got -1"),
    (dict(connections=[{"from": "src.signals", "to": "gain.input", "spin": "fast"}]),
     "connections[0].spin must be a number, got 'fast'"),
    (dict(groups={"acq": {"host": "rig"}}), "groups.acq.host: unknown host 'rig'"),
    (dict(hosts={"rig": "10.0.0.2"}), "hosts.rig: expected an address like tcp://"),
    (dict(colour="blue"), "graph: unknown key 'colour'"),
    (dict(imports=["no.such.module"]), "imports: cannot import 'no.such.module'"),
    (dict(nodes={}), "nodes: the graph has no nodes"),
])
def test_invalid_graphs_name_the_problem(changes, expected):
    found = problems(graph(**changes))
    assert any(expected in p for p in found), found


def test_incompatible_dtype_and_cycle():
    data = graph()
    data["nodes"]["sink"] = {"type": "Sink64", "group": "proc"}
    data["connections"].append({"from": "gain.output", "to": "sink.input",
                                "params": {"dtype": "float32"}})
    found = problems(data)
    assert any("dtype: input sink.input requires 'float64', output gain.output gives '<f4'" in p
               for p in found), found
    data = graph()
    data["nodes"]["gain2"] = {"type": "TestGain", "group": "proc"}
    data["connections"] = [{"from": "src.signals", "to": "gain.input"},
                           {"from": "gain.output", "to": "gain2.input"}]
    data["nodes"]["mix"] = {"type": "TestGain", "group": "proc"}
    data["connections"][1] = {"from": "mix.output", "to": "gain2.input"}
    data["connections"].append({"from": "gain2.output", "to": "mix.input"})
    found = problems(data)
    assert any("cycle gain2 -> mix -> gain2" in p for p in found), found
    data["connections"][-1]["feedback"] = True
    order = GraphSpec.from_dict(data).order()
    assert order.index("src") < order.index("gain") and order.index("mix") < order.index("gain2")


def test_all_problems_reported_at_once():
    data = graph(colour=1, connections=[{"from": "src.x", "to": "gain.y"}])
    assert len(problems(data)) >= 4


def test_bad_yaml_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("nodes: [unclosed\n")
    with pytest.raises(GraphError, match="not valid YAML"):
        load_graph(str(path))


def run_cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "acqflow.cli", "run", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_run_rejects_invalid_graph_before_starting(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(graph(connections=[])))
    proc = run_cli(str(path))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "input 'input' is not connected" in err


def segments_of(pids) -> set[str]:
    """The shared-memory segments in /dev/shm made by the processes ``pids`` (acqflow_PID_...):
    other tests, and other runs on the machine, have their own."""
    pids = {str(p) for p in pids}
    return {n for n in os.listdir("/dev/shm") if n.startswith("acqflow_") and n.split("_")[1] in pids}


def test_run_shows_table_and_stops_cleanly_on_sigterm(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(graph()))
    proc = run_cli(str(path), "--interval", "0.3")
    lines = []
    wait_for(lambda: lines.append(proc.stdout.readline()) or "src.signals -> gain.input" in lines[-1],
             timeout=60, message="the stream row of the live table")
    pids = [child.pid for child in psutil.Process(proc.pid).children()]
    assert len(pids) >= 2                                 # one process per group
    made = [proc.pid, *pids]
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped: every node and process closed" in out
    for pid in pids:
        wait_for(lambda: not psutil.pid_exists(pid), timeout=10, message=f"group process {pid} to exit")
    # A process killed at shutdown leaves its segments to Python's resource tracker,
    # which unlinks them a moment after it exits: wait for that, with a bound.
    wait_for(lambda: not segments_of(made), timeout=30,
             message="every shared-memory segment of the run to be released")


def test_run_with_sharedmem_streams_releases_segments(tmp_path):
    data = graph()
    data["connections"][0]["params"] = {"transfermode": "sharedmem", "buffer_size": 10000}
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(data))
    proc = run_cli(str(path), "--duration", "1.5", "--interval", "0.5")
    made = {proc.pid}

    def ended() -> bool:                 # the run's processes, gathered while they run
        try:
            made.update(c.pid for c in psutil.Process(proc.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            pass
        return proc.poll() is not None

    wait_for(ended, timeout=60, interval=0.05, message="the run to end")
    out, err = proc.communicate(timeout=60)
    assert len(made) >= 3, made                                  # the run and its groups
    assert proc.returncode == 0, err
    rows = [line.split() for line in out.splitlines() if line.startswith("src.signals -> gain.input")]
    assert rows and all(r[-2:] == ["0", "0"] for r in rows)     # no gaps, no drops
    assert float(rows[-1][3]) > 500                              # about 1000 samples/s
    # A process killed at shutdown leaves its segments to Python's resource tracker,
    # which unlinks them a moment after it exits: wait for that, with a bound.
    wait_for(lambda: not segments_of(made), timeout=30,
             message="every shared-memory segment of the run to be released")


def test_run_holds_a_cpu_latency_request_while_the_graph_runs(tmp_path):
    """--cpu-latency 0 with a spinning sharedmem connection: the graph runs, the PM QoS
    request is in force meanwhile and gone after; a bad value is one line."""
    from acqflow.dataflow.cpulatency import DEVICE, current_cpu_latency
    data = graph()
    data["connections"][0].update(params={"transfermode": "sharedmem"}, spin=0.2)
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(data))
    bad = run_cli(str(path), "--cpu-latency", "-1")
    err = bad.communicate(timeout=60)[1]
    assert bad.returncode == 2 and err.strip().splitlines()[-1] == (   # after the progress lines
        "acqflow run: --cpu-latency: CPU latency (microseconds) must be an int in 0..2147483647, got -1")
    if not os.access(DEVICE, os.R_OK | os.W_OK):
        pytest.skip(f"{DEVICE} is not readable and writable here")
    before = current_cpu_latency()
    proc = run_cli(str(path), "--cpu-latency", "0", "--duration", "3", "--interval", "0.5")
    try:
        wait_for(lambda: current_cpu_latency() == 0 or proc.poll() is not None, timeout=30)
        assert current_cpu_latency() == 0
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    rows = [line.split() for line in out.splitlines() if line.startswith("src.signals -> gain.input")]
    assert rows and all(r[-2:] == ["0", "0"] for r in rows)
    assert current_cpu_latency() == before


def test_run_with_monitor_window_runs_and_stops(tmp_path):
    """`acqflow run --monitor` shows the GraphMonitor (offscreen here) while the graph runs."""
    pytest.importorskip("PyQt5")
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(graph()))
    proc = run_cli(str(path), "--monitor", "--duration", "2", "--interval", "0.5",
                   env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    rows = [line.split() for line in out.splitlines() if line.startswith("src.signals -> gain.input")]
    assert rows and float(rows[-1][3]) > 500
    assert "stopped: every node and process closed" in out


def test_run_keys_option_names_a_missing_directory(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(graph()))
    proc = run_cli(str(path), "--keys", str(tmp_path / "nokeys"))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and f"--keys {tmp_path / 'nokeys'}: no such directory" in err
