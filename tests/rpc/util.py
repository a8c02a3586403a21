"""Helpers shared by the rpc tests."""
from tests.conftest import wait_for

__all__ = ["pid_gone", "wait_for"]   # wait_for re-exported for the rpc tests


def pid_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
