"""Every script in examples/ runs as it is."""
import glob
import os
import subprocess
import sys

import pytest

from tests.docsnippets import python_snippets, source

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.py")))


@pytest.mark.parametrize("path", EXAMPLES, ids=os.path.basename)
def test_example_runs(path):
    result = subprocess.run([sys.executable, path], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]


def _readme_block(lang):
    return source(python_snippets("README.md", language=lang)[0])


def test_readme_stream_snippet_runs():
    result = subprocess.run([sys.executable, "-c", _readme_block("python")], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "0"]


def test_readme_graph_file_runs(tmp_path):
    graph = _readme_block("yaml").replace("/tmp/rec", str(tmp_path / "rec"))
    (tmp_path / "graph.yaml").write_text(graph)
    result = subprocess.run([sys.executable, "-m", "acqflow.cli", "run", str(tmp_path / "graph.yaml"),
                             "--duration", "2", "--interval", "0.5"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("filt.output -> rec.filtered")]
    assert rows and float(rows[-1][3]) > 500 and rows[-1][-2:] == ["0", "0"]
    assert (tmp_path / "rec").is_dir()
