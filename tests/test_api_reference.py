"""The API reference: every public name and public method has a docstring, and the Sphinx
build of docs/ (``./run docs``) passes with warnings as errors and documents every public name."""
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys

import pytest

import acqflow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def public_modules() -> list[str]:
    """acqflow, each subpackage with an ``__all__`` (acqflow.compat: its pyacq tree) and the
    public modules users import from."""
    subs = [f"acqflow.{m.name}" for m in pkgutil.iter_modules(acqflow.__path__) if m.ispkg]
    subs = [s for s in subs if s != "acqflow.compat"] + ["acqflow.compat.pyacq"]
    return ["acqflow"] + sorted(subs) + ["acqflow.testing", "acqflow.hooks"]


def public_names(module: str) -> list[str]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    mod = importlib.import_module(module)
    assert hasattr(mod, "__all__"), f"{module} has no __all__"
    return list(mod.__all__)


def undocumented(module: str) -> list[str]:
    """Public names of ``module`` (classes, functions) and public methods and properties of its
    classes (acqflow's own, inherited ones included) without a docstring; an override counts
    as documented when the method it overrides is (as ``help()`` and Sphinx show it)."""
    mod = importlib.import_module(module)
    missing = []
    for name in public_names(module):
        obj = getattr(mod, name)        # lazily exported names resolve here too
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(f"{module}.{name}")
        if not inspect.isclass(obj):
            continue
        for klass in obj.__mro__:
            if not klass.__module__.startswith("acqflow"):
                continue
            for attr, value in vars(klass).items():
                if attr.startswith("_"):
                    continue
                func = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
                if (isinstance(func, property) or inspect.isfunction(func)) and \
                        not inspect.getdoc(getattr(obj, attr, func)):
                    missing.append(f"{klass.__module__}.{klass.__qualname__}.{attr}")
    return missing


def test_every_public_name_and_method_has_a_docstring():
    missing = sorted({m for module in public_modules() + ["acqflow.commands", "acqflow.commands.demo",
                                                           "acqflow.errors"]
                      for m in undocumented(module)})
    assert not missing, "no docstring (one or two lines: what and why):\n" + "\n".join(missing)


def test_the_walk_covers_lazy_names_and_finds_a_missing_docstring():
    assert {"RPCServer", "QtRPCServer", "ProcessSpawner"} <= set(public_names("acqflow"))
    assert "acqflow.RPCServer" not in undocumented("acqflow")

    class Bare:
        def method(self):
            pass
    Bare.__module__ = "acqflow.fake"
    fake = type(sys)("acqflow_fake_docs")
    fake.__all__, fake.Bare = ["Bare"], Bare
    sys.modules["acqflow_fake_docs"] = fake
    try:
        assert undocumented("acqflow_fake_docs") == ["acqflow_fake_docs.Bare",
                                                     "acqflow.fake.test_the_walk_covers_lazy_"
                                                     "names_and_finds_a_missing_docstring."
                                                     "<locals>.Bare.method"]
    finally:
        del sys.modules["acqflow_fake_docs"]


def test_the_api_reference_builds_with_warnings_as_errors(tmp_path):
    pytest.importorskip("sphinx", reason="sphinx is not installed: `./run docs` installs the "
                                         "docs extra (pip install -e '.[docs]')")
    pytest.importorskip("myst_parser", reason="myst-parser is not installed: `./run docs` "
                                              "installs the docs extra")
    out = tmp_path / "html"
    env = dict(os.environ, PYTHONPATH=ROOT, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going",
                           "-q", "-E", "-d", str(tmp_path / "doctrees"), os.path.join(ROOT, "docs"),
                           str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    ids = set()
    for page in (out / "api").glob("*.html"):
        ids |= set(re.findall(r'id="([\w.]+)"', page.read_text()))
    expected = {f"{module}.{name}" for module in public_modules() for name in public_names(module)}
    assert not expected - ids, f"not in the API reference: {sorted(expected - ids)}"
    assert (out / "streams.html").exists() and (out / "performance.html").exists()
