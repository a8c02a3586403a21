"""Bad input at `acqflow run` and `acqflow check`: one clear line naming the bad value, never a
traceback (bad values, an existing recording, non-UTF-8, duplicates, YAML bombs, long chains)."""
import os
import subprocess
import sys
import time

import pytest
import yaml

from acqflow.dataflow.graph import GraphError, load_graph
from acqflow.manager.run import main as run_main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE = {
    "nodes": {
        "gen": {"type": "SyntheticSignal", "params": {"channels": 4}},
        "filt": {"type": "Expression", "params": {"expr": "x * 2"}},
    },
    "connections": [{"from": "gen.signals", "to": "filt.input"}],
}


def write(tmp_path, data, name="g.yaml") -> str:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return str(path)


def variant(**params) -> dict:
    data = yaml.safe_load(yaml.safe_dump(BASE))
    for where, value in params.items():
        node, key = where.split("__")
        data["nodes"][node]["params"][key] = value
    return data


def check(tmp_path, capsys, data, *extra) -> tuple[int, str]:
    code = run_main([write(tmp_path, data), "--check", *extra])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err + captured.out


@pytest.mark.parametrize("data,expected", [
    (variant(gen__channels="sixteen"), "nodes.gen.params.channels: 'sixteen' is not an integer"),
    (variant(gen__sample_rate=-5), "nodes.gen.params.sample_rate: sample_rate must be > 0 and finite, got -5"),
    (variant(gen__sample_rate=float("nan")), "nodes.gen.params.sample_rate: NaN is not a value"),
    (variant(gen__channls=4), "SyntheticSignal has no param 'channls' (did you mean 'channels'?"),
    (variant(filt__expr="x +"), "nodes.filt.params.expr: expr 'x +' is not a valid expression"),
    (variant(filt__expr="().__class__.__base__.__subclasses__()"), "is not allowed"),
    ({**BASE, "groups": {"acq": {}},
      "nodes": {**BASE["nodes"], "gen": {**BASE["nodes"]["gen"], "group": "acx"}}},
     "nodes.gen.group: unknown group 'acx' (groups: acq)"),
    ({**BASE, "connections": [{"from": "gen.signals", "to": "filt.input", "params": {"protocol": "udp"}}]},
     "protocol='udp'"),
    ({**BASE, "nodes": {**BASE["nodes"], "gen": {**BASE["nodes"]["gen"],
                                                  "outputs": {"signals": {"shape": [-1, 0]}}}}},
     "shape (-1, 0)"),
], ids=["channels sixteen", "rate -5", "rate NaN", "misspelt", "expr syntax", "expr escape",
        "undeclared group", "protocol", "shape 0"])
def test_check_refuses_what_would_fail_at_run_time(tmp_path, capsys, data, expected):
    code, text = check(tmp_path, capsys, data)
    assert code == 2 and expected in text, text


def test_check_refuses_an_existing_recording_directory(tmp_path, capsys):
    rec = tmp_path / "rec"
    rec.mkdir()
    data = {"nodes": {"gen": {"type": "SyntheticSignal"},
                      "rec": {"type": "Recorder", "params": {"streams": ["sig"], "dirname": str(rec)}}},
            "connections": [{"from": "gen.signals", "to": "rec.sig"}]}
    code, text = check(tmp_path, capsys, data)
    assert code == 2 and f"nodes.rec.params.dirname: {rec} exists" in text
    assert "mode: overwrite | append" in text
    data["nodes"]["rec"]["params"]["mode"] = "append"
    assert check(tmp_path, capsys, data)[0] == 0


def test_run_refuses_an_existing_recording_before_spawning(tmp_path):
    """Regression: it failed after seconds of spawning, with a remote traceback."""
    rec = tmp_path / "rec"
    rec.mkdir()
    data = {"nodes": {"gen": {"type": "SyntheticSignal"},
                      "rec": {"type": "Recorder", "params": {"streams": ["sig"], "dirname": str(rec)}}},
            "connections": [{"from": "gen.signals", "to": "rec.sig"}]}
    result = subprocess.run([sys.executable, "-m", "acqflow.cli", "run", write(tmp_path, data)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "exists" in result.stderr
    assert "Traceback" not in result.stderr and "spawn" not in result.stderr.lower()


def test_non_utf8_file(tmp_path, capsys):
    code, text = check(tmp_path, capsys, b"nodes:\n  gen: {type: SyntheticSignal, params: {units: \xff}}\n")
    assert code == 2 and "not UTF-8 text: byte 0xff at offset" in text


def test_duplicate_node_names_and_keys_are_refused(tmp_path, capsys):
    code, text = check(tmp_path, capsys, "nodes:\n  gen: {type: SyntheticSignal}\n"
                                         "  gen: {type: SyntheticSignal, params: {channels: 3}}\n")
    assert code == 2 and "duplicate key 'gen' (first at line 2)" in text
    code, text = check(tmp_path, capsys, "nodes:\n  gen: {type: SyntheticSignal, "
                                         "params: {channels: 3, channels: 4}}\n")
    assert code == 2 and "duplicate key 'channels'" in text


def test_yaml_bomb_is_refused_quickly(tmp_path, capsys):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 12):
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}"] * 9) + "]")
    lines.append("nodes: *l")
    start = time.monotonic()
    with pytest.raises(GraphError, match="YAML bomb"):
        load_graph(write(tmp_path, "\n".join(lines)))
    assert time.monotonic() - start < 30       # generous: it was 34 s, then MemoryError
    code, text = check(tmp_path, capsys, "\n".join(lines))
    assert code == 2 and "expands to more than" in text


def test_long_chain_has_no_recursion_error(tmp_path, capsys):
    n = 3000
    data = {"nodes": {"src": {"type": "SyntheticSignal"},
                      **{f"n{i}": {"type": "Expression"} for i in range(n)}},
            "connections": [{"from": "src.signals", "to": "n0.input"}] +
                           [{"from": f"n{i}.output", "to": f"n{i + 1}.input"} for i in range(n - 1)]}
    code, text = check(tmp_path, capsys, data)
    assert code == 0 and f"valid ({n + 1} nodes, {n} connections" in text
    data["connections"].append({"from": f"n{n - 1}.output", "to": "n0.input"})
    code, text = check(tmp_path, capsys, data)
    assert code == 2 and "cycle n0 -> n1" in text and "more)" in text and len(text) < 2000


def test_huge_bad_value_is_truncated(tmp_path, capsys):
    code, text = check(tmp_path, capsys, variant(gen__channels="x" * 3_000_000))
    assert code == 2 and "is not an integer" in text and len(text) < 1000


def test_check_does_not_run_imports(tmp_path, capsys):
    marker = tmp_path / "ran"
    module = tmp_path / "evil_graph_module.py"
    module.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    sys.path.insert(0, str(tmp_path))
    try:
        data = {**BASE, "imports": ["evil_graph_module"],
                "nodes": {**BASE["nodes"], "lab": {"type": "LabOnlyNode"}}}
        code, text = check(tmp_path, capsys, data)
    finally:
        sys.path.remove(str(tmp_path))
    assert code == 0 and not marker.exists()
    assert "not checked: lab (their types come from imports:" in text


def test_missing_and_directory_graph_files(tmp_path, capsys):
    assert run_main([str(tmp_path / "nope.yaml"), "--check"]) == 2
    assert run_main([str(tmp_path), "--check"]) == 2
    err = capsys.readouterr().err
    assert "no such graph file" in err and "is a directory" in err and "Traceback" not in err


def test_node_error_at_build_time_is_one_line_and_debug_shows_the_traceback(tmp_path):
    """A value only the node's process can refuse (a camera that is not there: --check
    does not open devices): one line, the remote traceback only with --debug."""
    path = write(tmp_path, {"nodes": {"cam": {"type": "Camera", "params": {"device": 57}}}})
    cmd = [sys.executable, "-m", "acqflow.cli", "run", path, "--duration", "1"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "configuring node 'cam' (Camera): ValueError: cam: cannot open camera 57" in result.stderr
    assert "Traceback" not in result.stderr and "remote traceback" not in result.stderr
    result = subprocess.run(cmd + ["--debug"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "remote traceback" in result.stderr
