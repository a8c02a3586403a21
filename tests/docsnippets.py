"""The code snippets of a docs page, found by sybil's markdown parser, for the doc tests.

Each test decides how its page's snippets run: in this process in order, with one namespace
per page (``run_in_order``: tracebacks point at the page's lines), or as source text in a
fresh process (``source``) where a snippet needs its own environment.
"""
from __future__ import annotations

from pathlib import Path

from sybil import Example, Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser

ROOT = Path(__file__).resolve().parents[1]


def python_snippets(page: str | Path, start: str | None = None, stop: str | None = None,
                    language: str = "python") -> list[Example]:
    """The ```python blocks (or ```LANGUAGE ones) of ``page`` (relative to the repository root),
    in order; with ``start``/``stop``, only those between the first occurrences of these markers."""
    parser = PythonCodeBlockParser() if language == "python" else CodeBlockParser(language=language)
    path = ROOT / page
    text = path.read_text()
    lo = text.index(start) if start else 0
    hi = text.index(stop, lo) if stop else len(text)
    return [ex for ex in Sybil(parsers=[parser]).parse(path) if lo <= ex.start < hi]


def source(example: Example) -> str:
    """A snippet's code, as written on the page."""
    return str(example.parsed)


def run_in_order(examples: list[Example]) -> None:
    """Run snippets in this process, in order, sharing their page's namespace."""
    for example in examples:
        example.evaluate()
