"""Helpers shared by the rpc tests."""
import psutil

from tests.conftest import wait_for

__all__ = ["pid_gone", "wait_for"]   # wait_for re-exported for the rpc tests


def pid_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
