"""Sphinx configuration: the user guides (docs/*.md, through myst-parser) and the API reference
generated from docstrings (docs/api/). Build with `./run docs` (HTML in docs/_build/html)."""
from __future__ import annotations

import importlib
import inspect
import os
import sys

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList
from sphinx.util.nodes import nested_parse_with_titles

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)                         # document this tree, not an installed copy
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import acqflow  # noqa: E402

project = "acqflow"
release = version = acqflow.__version__
extensions = ["sphinx.ext.autodoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "img/README*"]
html_theme = "alabaster"
html_static_path: list[str] = []

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_inherit_docstrings = True
autodoc_default_options = {"show-inheritance": True}

myst_heading_anchors = 4                          # links like streams.md#same-host-wake-up
# The guides link to files outside the doc tree (examples/, README.md, source files): those
# links are fine on GitHub and in an editor, and left as they are here.
suppress_warnings = ["myst.xref_missing", "myst.header"]


# The modules whose ``__all__`` the API pages document, in the order that decides where an
# object re-exported under several names is documented in full (its "home"): the others
# get a one-line entry linking there.
PAGES = ["acqflow.dataflow", "acqflow.rpc", "acqflow.manager", "acqflow.devices", "acqflow.nodes",
         "acqflow.storage", "acqflow.lsl", "acqflow.viewers", "acqflow.web", "acqflow.compat.pyacq",
         "acqflow.testing", "acqflow.hooks", "acqflow.bench", "acqflow"]
_HOMES: dict[int, str] = {}


def _home(obj: object) -> str | None:
    """The full name under which ``obj`` is documented in full (None for plain data)."""
    if not _HOMES:
        for module in PAGES:
            mod = importlib.import_module(module)
            for name in mod.__all__:
                value = getattr(mod, name)
                if inspect.isclass(value) or callable(value):
                    _HOMES.setdefault(id(value), f"{module}.{name}")
    return _HOMES.get(id(obj))


def _data_entry(full: str, value: object) -> list[str]:
    """A constant: its type and, when short, its value (a constant has no docstring)."""
    text = repr(value)
    if isinstance(value, dict) and len(text) > 80:
        text = f"dict with keys {', '.join(map(repr, value))}"
    elif len(text) > 80:
        text = type(value).__name__
    module, name = full.rsplit(".", 1)
    return [f".. py:data:: {name}", f"   :module: {module}", "", f"   ``{text}``", ""]


class PublicNames(Directive):
    """``.. public-names:: acqflow.rpc``: an autodoc entry for every name of the module's
    ``__all__`` (lazily exported names too, which ``automodule`` cannot see)."""

    required_arguments = 1

    def run(self):
        module = self.arguments[0]
        mod = importlib.import_module(module)
        lines: list[str] = []
        for name in mod.__all__:
            obj = getattr(mod, name)
            full, home = f"{module}.{name}", _home(obj)
            if home is None:
                lines += _data_entry(full, obj)
            elif home != full:
                kind, role = ("class", "class") if inspect.isclass(obj) else ("function", "func")
                summary = (inspect.getdoc(obj) or "").split("\n\n")[0].replace("\n", " ")
                lines += [f".. py:{kind}:: {name}", f"   :module: {module}", "",
                          f"   Same as :py:{role}:`{home}`: {summary}", ""]
            elif inspect.isclass(obj):
                lines += [f".. autoclass:: {full}", "   :members:", ""]
            else:
                lines += [f".. autofunction:: {full}", ""]
        container = nodes.container()
        nested_parse_with_titles(self.state, StringList(lines, source=f"<public-names {module}>"),
                                 container)
        return container.children


def _parameter_lists(app, what, name, obj, options, lines: list[str]) -> None:
    """The house style ``Parameters:`` block (``name: text`` lines, continuations indented)
    as a bullet list, so that it renders as written instead of as broken indentation."""
    inside = False
    for i, line in enumerate(lines):
        if line.strip() in ("Parameters:", "Parameters::"):
            lines[i], inside = "Parameters:", True
            continue
        if not inside or not line.strip():
            continue
        lines[i] = f"  {line.strip()}" if line[:1].isspace() else f"- {line}"


def setup(app):
    app.add_directive("public-names", PublicNames)
    app.connect("autodoc-process-docstring", _parameter_lists)
    return {"parallel_read_safe": True}
