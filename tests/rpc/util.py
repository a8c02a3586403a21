"""Helpers shared by the rpc tests."""
import time

import pytest


def wait_for(condition, timeout: float = 10.0, message: str = ""):
    """Wait until ``condition()`` is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {message or condition}")
        time.sleep(0.01)


def pid_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
