"""pyacq compatibility tests: ``import pyacq`` works here and in every process they spawn.

The aliases are installed when this directory is collected (pyacq's tests import pyacq at
module level), and a callback exception that reaches ``sys.excepthook`` (where Qt sends a
slot's exceptions) fails the test that caused it.
"""
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

import acqflow.compat.pyacq as compat  # noqa: E402

compat.install()


@pytest.fixture(autouse=True)
def excepthook_failures():
    """Collect what reaches sys.excepthook during a test; fail the test if anything did."""
    seen = []
    previous = sys.excepthook
    sys.excepthook = lambda *exc_info: seen.append(exc_info)
    yield seen
    sys.excepthook = previous
    if seen:
        import traceback
        text = "".join(traceback.format_exception(*seen[0]))
        pytest.fail(f"{len(seen)} exception(s) reached sys.excepthook; the first:\n{text}")
