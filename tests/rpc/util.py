"""Helpers shared by the rpc tests."""
import time

import pytest

from tests.conftest import wait_for  # noqa: F401  (re-exported for the rpc tests)


def pid_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
