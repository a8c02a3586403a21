"""Helpers shared by the rpc tests."""
import threading

import psutil

from acqflow.testing import wait_for

__all__ = ["pid_gone", "in_fresh_thread", "wait_for"]   # wait_for re-exported for the rpc tests


def pid_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def in_fresh_thread(fn):
    """Run ``fn()`` in a new thread (whose reactor serves nothing, whatever earlier tests
    left in the main thread's) and return its result; re-raise what it raised."""
    out: list = []

    def run():
        try:
            out.append(("ok", fn()))
        except BaseException as exc:       # noqa: BLE001 - handed back to the test
            out.append(("err", exc))
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(50)
    assert out, "the thread did not finish"
    if out[0][0] == "err":
        raise out[0][1]
    return out[0][1]
