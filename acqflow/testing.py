"""Helpers for acqflow's tests and for users' own tests of their nodes and graphs.

Importable without pytest and without Qt: both are imported only by the helpers
that need them.

- :func:`wait_for`: poll a condition until it holds or a timeout passes (never
  sleep to synchronise with another thread or process: wait on a condition).
- :func:`wait_qt`: the same with the Qt event loop running (viewers, Qt timers).
- :func:`process_events_until`: run the Qt event loop until a condition holds (True/False).
- :func:`grab_array`, :func:`save_png`: what a widget shows, as an RGBA array or a PNG.
- :func:`run_python`: run code in a fresh interpreter (what importing something pulls
  in, what a missing extra says), optionally with modules blocked as if not installed.
- :func:`loaded_after_import`: which of some modules a fresh interpreter has loaded after
  importing others ("importing acqflow.rpc loads no Qt").
- :func:`examples`: a hypothesis test's ``max_examples``, full under the ``ci`` profile and
  capped by any other (the quick ``dev`` profile of acqflow's suite).
- :func:`read_node`: a node configured and initialized in this process, an input connected
  to each of its named outputs (a device's streams read directly, without a graph).
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from .errors import Error

__all__ = ["wait_for", "wait_qt", "WaitTimeout", "process_events_until", "grab_array", "save_png",
           "run_python", "loaded_after_import", "examples", "read_node"]


class WaitTimeout(Error, AssertionError, TimeoutError):
    """A condition did not hold in time (outside pytest): both an AssertionError, as a
    failed check, and a TimeoutError."""


def _fail(message: str) -> None:
    """pytest.fail under pytest (a clean test failure), WaitTimeout otherwise."""
    try:
        import pytest
    except ImportError:
        raise WaitTimeout(message) from None
    pytest.fail(message)


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01,
             message: str = "") -> Any:
    """Wait until ``condition()`` is true and return its value; after ``timeout`` seconds
    fail the test (``pytest.fail``; without pytest, raise :class:`WaitTimeout`, an
    AssertionError and a TimeoutError, with the same message)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            _fail(f"timed out after {timeout} s waiting for {message or condition}")
        time.sleep(interval)


def wait_qt(condition: Callable[[], Any], timeout: float = 10.0, message: str = "") -> None:
    """:func:`wait_for` with the Qt event loop running (a viewer draws, a Qt timer fires):
    fail the test (or raise :class:`WaitTimeout`) after ``timeout`` s."""
    if not process_events_until(condition, timeout):
        _fail(f"timed out after {timeout} s waiting for {message or condition}")


def process_events_until(condition: Callable[[], Any], timeout: float = 10.0) -> bool:
    """Run the Qt event loop until ``condition()`` holds (True) or ``timeout`` s pass (False)."""
    from .viewers.base import process_events_until as run
    return run(condition, timeout)


def grab_array(widget: Any):
    """What a Qt ``widget`` shows, as an (h, w, 4) uint8 RGBA array."""
    from .viewers.base import grab_array as grab
    return grab(widget)


def save_png(widget: Any, path: str) -> None:
    """Save a screenshot of a Qt ``widget`` to ``path`` (PNG)."""
    from .viewers.base import save_png as save
    save(widget, path)


def _blocking(block: Iterable[str]) -> str:
    """Code that makes ``block`` unimportable, as if not installed (an import raises ImportError)."""
    names = list(block)
    return f"__import__('sys').modules.update(dict.fromkeys({names!r}))\n" if names else ""


def run_python(code: str, *args: str, block: Iterable[str] = (),
               env: Mapping[str, str | None] | None = None, python: str | os.PathLike | None = None,
               cwd: str | os.PathLike | None = None, timeout: float = 120,
               check: bool = True) -> subprocess.CompletedProcess:
    """Run ``code`` (``python -c code *args``) in a fresh interpreter; the finished process,
    its output as text.

    ``block``: modules made unimportable before ``code`` runs (``sys.modules[name] = None``).
    ``env``: variables set in (a value None: removed from) this process's environment.  By
    default the interpreter is this one and imports this very acqflow (its directory goes first
    on PYTHONPATH); ``python`` runs another one (a venv's) as it is.  With ``check``, a non-zero
    exit fails the test (``pytest.fail``; without pytest, :class:`WaitTimeout`) with its stderr.
    """
    environ = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    if python is None:
        root = str(Path(__file__).resolve().parent.parent)
        environ["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [environ.get("PYTHONPATH")])])
    out = subprocess.run([str(python or sys.executable), "-c", _blocking(block) + code, *args],
                         cwd=cwd, env=environ, capture_output=True, text=True, timeout=timeout)
    if check and out.returncode != 0:
        _fail(f"python -c exited with {out.returncode}: {code[:200]!r}\n{out.stderr[-3000:]}")
    return out


def loaded_after_import(modules: str | Iterable[str], watch: Iterable[str],
                        block: Iterable[str] = (), **kwargs: Any) -> list[str]:
    """The modules of ``watch`` (names, each matching its submodules too: 'PyQt5' matches
    'PyQt5.QtCore') that a fresh interpreter has loaded after importing ``modules``
    (with ``block`` unimportable; ``kwargs`` as :func:`run_python`'s), sorted."""
    names = [modules] if isinstance(modules, str) else list(modules)
    # imports nothing of its own (sys is built in), so that it sees only what ``modules`` load
    code = (f"import sys\n"
            f"for name in {names!r}:\n    __import__(name)\n"
            f"watch = {list(watch)!r}\n"
            f"print(sorted(m for m in sys.modules if sys.modules[m] is not None and "
            f"any(m == w or m.startswith(w + '.') for w in watch)))\n")
    out = run_python(code, block=block, **kwargs)
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])


def examples(ci: int) -> int:
    """``max_examples`` for a hypothesis test: ``ci`` under hypothesis's ``ci`` profile, and at
    most the loaded profile's ``max_examples`` under any other (a quick inner loop)."""
    from hypothesis import settings
    if settings.get_current_profile_name() == "ci":
        return ci
    return min(ci, settings().max_examples)      # (a fresh settings: the loaded profile's)


def read_node(node: Any, outputs: Iterable[str], **params: Any) -> list[Any]:
    """Configure ``node`` with ``params`` in this process, put every output on ``inproc``,
    initialize it and connect an InputStream to each of ``outputs``; returns those inputs in
    that order (start the node to make it send)."""
    from .dataflow.streams.inputstream import InputStream
    node.configure(**params)
    for out in node.outputs.values():
        out.configure(protocol="inproc")
    node.initialize()
    inputs = []
    for name in outputs:
        inp = InputStream()
        inp.connect(node.outputs[name])
        inputs.append(inp)
    return inputs
