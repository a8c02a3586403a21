"""Suite-wide set-up: offscreen Qt, and a check that no shared memory leaks."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

SHM_DIR = "/dev/shm"
_PREFIX = "acqflow_"


def _segments() -> set[str]:
    try:
        return {n for n in os.listdir(SHM_DIR) if n.startswith(_PREFIX)}
    except FileNotFoundError:
        return set()


def pytest_sessionstart(session):
    session.config._acqflow_shm_before = _segments()


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when a segment created during it is still in /dev/shm."""
    import gc
    gc.collect()
    leaked = _segments() - session.config._acqflow_shm_before
    mine = {n for n in leaked if n.split("_")[1] == str(os.getpid())}
    if mine:
        session.config._acqflow_leaked = sorted(mine)
        print(f"\nLEAKED shared memory segments: {sorted(mine)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def wait_for(condition, timeout: float = 10.0, interval: float = 0.01, message: str = ""):
    """Wait until ``condition()`` is true; fail the test after ``timeout`` seconds."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {message or condition}")
        time.sleep(interval)
