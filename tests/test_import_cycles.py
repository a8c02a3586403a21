"""No import circles: every import counts, at module level, inside functions and under
TYPE_CHECKING (read from the sources with ast, so nothing has to be importable)."""
from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _modules(root: Path = ROOT, top: str = "acqflow") -> dict[str, Path]:
    """Dotted module name -> source file, for every module of package ``top``."""
    mods = {}
    for path in sorted((root / top).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = path
    return mods


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that module ``name`` imports anywhere in its source."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            # the longest importable prefix (``import a.b.c`` imports a.b.c)
            while target and target not in modules:
                target = target.rpartition(".")[0]
            # a module's own package (and its parents) is imported before it anyway
            if target and target != name and not name.startswith(target + "."):
                found.add(target)
    return found


def import_graph(top: str = "acqflow") -> dict[str, set[str]]:
    """module -> modules it imports, within package ``top``."""
    modules = _modules(top=top)
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def import_cycle(prefix: str, graph: dict[str, set[str]] | None = None) -> list[str] | None:
    """One import circle among the modules named ``prefix`` or ``prefix.*``, or None."""
    graph = import_graph(prefix.split(".")[0]) if graph is None else graph

    def inside(m: str) -> bool:
        return m == prefix or m.startswith(prefix + ".")
    sub = {m: {d for d in deps if inside(d)} for m, deps in graph.items() if inside(m)}
    try:
        tuple(graphlib.TopologicalSorter(sub).static_order())
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


@pytest.mark.parametrize("package", ["acqflow.rpc", "acqflow.dataflow", "acqflow.storage",
                                     "acqflow.viewers"])
def test_no_import_cycle(package: str) -> None:
    cycle = import_cycle(package)
    assert cycle is None, f"import circle in {package}: {' -> '.join(cycle or [])}"


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "q.x": set()}
    assert set(import_cycle("p", graph) or ()) == {"p.a", "p.b", "p.c"}
    assert import_cycle("q", graph) is None


def test_imports_inside_functions_and_type_checking_count(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from . import b\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\n"
                              "if TYPE_CHECKING:\n    from .a import f\n")
    modules = _modules(tmp_path, "pkg")
    assert _imports("pkg.a", modules["pkg.a"], modules) == {"pkg.b"}
    assert _imports("pkg.b", modules["pkg.b"], modules) == {"pkg.a"}


if __name__ == "__main__":       # report every package's circle
    g = import_graph()
    for pkg in sorted({m.split(".")[1] for m in g if m.count(".") >= 1}):
        c = import_cycle(f"acqflow.{pkg}", g)
        print(f"acqflow.{pkg}: {' -> '.join(c) if c else 'no circle'}")
