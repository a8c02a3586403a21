"""docs/extending.md "Writing a node": the snippet runs as written, and what its
_input_specs refuses is refused at connect with the node, input and bad value named."""
import os
import subprocess
import sys

import pytest

from tests.docsnippets import ROOT, python_snippets, source

SNIPPET = source(python_snippets("docs/extending.md", "## Writing a node")[0])


def test_the_minimal_node_is_about_twenty_lines():
    cls = SNIPPET.split("class Rectify", 1)[1].split("\n\n\nsrc", 1)[0]
    assert len([ln for ln in cls.splitlines() if ln.strip()]) <= 20


def test_the_snippet_runs():
    res = subprocess.run([sys.executable, "-c", SNIPPET], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]


def test_the_snippet_node_refuses_what_its_input_specs_do_not_accept():
    import acqflow
    namespace: dict = {}
    exec(SNIPPET.split("\n\n\nsrc", 1)[0], namespace)       # the class only
    node = namespace["Rectify"](name="rect")
    for params, bad in (({"dtype": "int16", "shape": (-1, 2)}, "dtype int16"),
                        ({"dtype": "float32", "shape": (-1, 2, 2, 3)}, r"shape \(-1, 2, 2, 3\)")):
        src = acqflow.OutputStream()
        src.configure(protocol="inproc", **params)
        with pytest.raises(ValueError, match=rf"node 'rect' input 'input': {bad}"):
            node.input.connect(src)
        assert not node.input.connected
        src.close()
    node.close()
