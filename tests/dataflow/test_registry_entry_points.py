"""Node types come only from entry points: no acqflow module registers one when imported,
every node class acqflow defines is an entry point of pyproject.toml, and the installed
metadata lists them all (else `pip install -e . --no-deps` is due)."""
import ast
import importlib
import inspect
import os
import pathlib
import pkgutil
import tomllib

import pytest

import acqflow
from acqflow.dataflow import registry
from acqflow.dataflow.node import Node

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = pathlib.Path(acqflow.__file__).parent
# pyacq's API: its modules register their node types when imported, and pyacq's tests count on it
PYACQ = ROOT / "compat" / "pyacq"
# modules that define the API, not node types
OWNERS = {ROOT / "dataflow" / "registry.py"}
# still registering in files of the video work, whose entry points exist already: empty at merge
PENDING: set = set()
# packages holding acqflow's node classes (compat/pyacq aside)
PACKAGES = ["acqflow.dataflow", "acqflow.nodes", "acqflow.devices", "acqflow.viewers", "acqflow.lsl",
            "acqflow.bench"]


def entry_points() -> dict[str, str]:
    text = (ROOT.parent / "pyproject.toml").read_text()
    return tomllib.loads(text)["project"]["entry-points"][registry.ENTRY_POINT_GROUP]


def _target(value: str) -> type:
    module, _, attr = value.partition(":")
    return getattr(importlib.import_module(module), attr)


def test_no_acqflow_module_registers_node_types_when_imported():
    found = []
    for path in ROOT.rglob("*.py"):
        if path in OWNERS or path in PENDING or PYACQ in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and "register_node_type" in ast.unparse(node.func):
                found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}")
    assert not found, f"register_node_type calls (make them entry points in pyproject.toml): {found}"


def test_every_node_class_is_an_entry_point():
    eps = entry_points()
    targets = {}
    for name, value in eps.items():
        cls = _target(value)
        assert inspect.isclass(cls) and issubclass(cls, Node), f"{name} = {value} is not a Node class"
        targets[cls] = name
    defined = set()
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        for info in pkgutil.walk_packages(pkg.__path__, package + "."):
            module = importlib.import_module(info.name)
            defined |= {c for c in vars(module).values() if inspect.isclass(c) and issubclass(c, Node)
                        and c.__module__ == module.__name__ and not c.__name__.startswith("_")}
    bases = {b for c in defined for b in c.__mro__[1:]}
    missing = sorted(c.__qualname__ for c in defined - bases if c not in targets)
    assert not missing, f"node classes without an entry point in pyproject.toml: {missing}"


def test_the_installed_metadata_has_every_entry_point():
    eps = entry_points()
    stale = sorted(set(eps) - set(registry.node_type_names()))
    assert not stale, (f"the installed acqflow metadata lacks the entry points {stale}: "
                       f"run `pip install -e . --no-deps` to refresh it")
    for name, value in eps.items():
        assert registry.get_node_type(name) is _target(value), name


def test_a_misspelt_type_is_named_with_the_closest_entry_point():
    with pytest.raises(KeyError, match=r"unknown node type 'SoakSorce' \(did you mean 'SoakSource'\?\)"):
        registry.get_node_type("SoakSorce")
