"""`acqflow bench startup` runs with one repeat and writes JSON (no timing assertions)."""
import json

import yaml

from acqflow.bench import startup


def test_startup_bench_times_imports_and_the_readme_graph(tmp_path, capsys):
    out = tmp_path / "startup.json"
    assert startup.main(["--repeats", "1", "--interval", "0.3", "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "import acqflow.nodes" in table and "run: first table" in table
    rows = {r["what"]: r for r in json.loads(out.read_text())["results"]}
    assert {f"import {m}" for m in startup.MODULES} <= set(rows)
    assert all(r["best"] > 0 for r in rows.values())
    assert rows["run: nodes started"]["best"] < rows["run: first table (--interval 0.3)"]["best"]


def test_the_readme_graph_records_into_the_given_directory(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("text\n```yaml\nnodes:\n  rec: {type: Recorder, params: {dirname: /tmp/rec, "
                      "mode: append, streams: [raw]}}\n```\n")
    graph = yaml.safe_load(startup.readme_graph(readme, tmp_path).read_text())
    assert graph["nodes"]["rec"]["params"] == {"dirname": str(tmp_path / "rec-rec"), "mode": "overwrite",
                                               "streams": ["raw"]}
