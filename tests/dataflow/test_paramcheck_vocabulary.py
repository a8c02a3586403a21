"""One vocabulary for refused values: every "... must be ..." message of acqflow comes from
acqflow.dataflow.paramcheck (so each names the bad value, bounded, on one line), except
the few places listed here with the reason they word their own."""
import ast
import pathlib

import pytest

import acqflow
from acqflow.dataflow import paramcheck as check

ROOT = pathlib.Path(acqflow.__file__).parent

# file -> why its "must be" messages are its own
OWN_WORDING = {
    "dataflow/paramcheck.py": "the vocabulary itself",
    "hooks.py": "a leaf module below dataflow: it cannot import paramcheck",
    "dataflow/wire.py": "a peer's malformed frame header (BlockFormatError naming the frame), not a parameter",
    "rpc/server.py": "a peer's malformed request (SerializationError), not a parameter",
    "rpc/client.py": "a peer's malformed reply, not a parameter",
    "rpc/proxy.py": "a peer's malformed proxy map, not a parameter",
    "dataflow/ringbuffer.py": "indexing, in Python's own wording ('indices must be integers or slices')",
    "storage/streamdata.py": "indexing, in Python's own wording ('indices must be integers or slices')",
    "compat/pyacq/dsp/triggeraccumulator.py": "pyacq's params tree (left_sweep, right_sweep, ...), "
                                              "as pyacq words it",
    "storage/nwb_meta.py": "the NWB metadata file's validator: each message names the file's key path",
}


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)}


def test_every_must_be_message_comes_from_paramcheck():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in OWN_WORDING:
            continue
        tree = ast.parse(path.read_text(), rel)
        docs = _docstrings(tree)
        found += [f"{rel}:{node.lineno}: {node.value.strip()[:60]!r}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and "must be" in node.value and id(node) not in docs]
    assert not found, "hand-written 'must be' messages (use acqflow.dataflow.paramcheck):\n" + "\n".join(found)


def test_the_allow_list_names_real_files():
    assert [f for f in OWN_WORDING if not (ROOT / f).exists()] == []


@pytest.mark.parametrize("call,message", [
    (lambda: check.positive_number("dev: xsize", 0, " s"), "dev: xsize must be > 0 s and finite, got 0"),
    (lambda: check.positive_number("rate", float("inf"), inf_ok=True), None),
    (lambda: check.positive_number("rate", -1.0, inf_ok=True), "rate must be > 0, got -1.0"),
    (lambda: check.positive_number("rate", "fast"), "rate must be a number, got 'fast'"),
    (lambda: check.positive_number("rate", True), "rate must be a number, got True"),
    (lambda: check.non_negative_number("spin", 10 ** 400, " ms"), "spin must be >= 0 ms and finite, got 1000"),
    (lambda: check.finite_number("t", float("nan")), "t must be a finite number, got nan"),
    (lambda: check.int_in("n", 2.0), "n must be an int >= 1, got 2.0"),
    (lambda: check.int_in("n", 0, 1, 1024), "n must be an int in 1..1024, got 0"),
    (lambda: check.one_of("a", "b", none_ok=True)("k", "c"), "k='c' is not one of a, b or None"),
    (lambda: check.non_empty_str("run", ""), "run must be a non-empty str, got ''"),
    (lambda: check.less_than("lo", 2.0, "hi", 1.0), "lo must be < hi, got 2.0 and 1.0"),
    (lambda: check.must_be("roi", "(x, y, width, height)", "x" * 10_000),
     "roi must be (x, y, width, height), got 'xxx"),
])
def test_messages_name_the_value_on_one_bounded_line(call, message):
    if message is None:
        call()
        return
    with pytest.raises(ValueError) as info:
        call()
    text = str(info.value)
    assert text.startswith(message) and "\n" not in text and len(text) < 300


def test_a_callable_is_a_type_error():
    with pytest.raises(TypeError, match=r"^func must be a callable array -> array, got 3$"):
        check.a_callable("func", 3, " array -> array")
    assert check.a_callable("func", len) is len
