"""Every python snippet of docs/nodes.md runs as written; the custom-node example matches the doc."""
import os
import subprocess
import sys

from tests.docsnippets import ROOT, python_snippets, source

SNIPPETS = [source(s) for s in python_snippets("docs/nodes.md")]


def test_snippets_cover_the_nodes():
    assert len(SNIPPETS) == 8
    for name in ("SosFilter", "OverlapFiltfilt", "Resample", "AnalogTrigger", "Epocher",
                 "TimeFrequency", "Expression", "ProcessingNode"):
        assert any(name in s for s in SNIPPETS), name


def test_custom_node_snippet_is_the_example():
    example = open(os.path.join(ROOT, "examples", "nodes_custom.py")).read()
    body = SNIPPETS[-1].split("class Envelope", 1)[1]
    assert "class Envelope" + body in example
    lines = [ln for ln in ("class Envelope" + body).splitlines() if ln.strip()]
    assert len(lines) <= 16


def test_snippets_run():
    """All snippets in one fresh process each (run together to keep the suite fast)."""
    code = "\n".join(f"def _snippet_{k}():\n" + "".join(f"    {ln}\n" for ln in s.splitlines())
                     + f"_snippet_{k}()\nprint('snippet {k} ok')\n" for k, s in enumerate(SNIPPETS))
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    assert res.stdout.count("ok") == len(SNIPPETS)
