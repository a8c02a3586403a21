"""Run a Qt example as it is and close its windows from outside once it has drawn.

    python -m tests.qt_example_runner EXAMPLE.py READY [TIMEOUT]

The example runs as ``__main__`` (as with ``python EXAMPLE.py``) in a namespace this
runner reads while the example's event loop runs: every 0.2 s it evaluates READY, a
Python expression on the example's names (``scope.counters()["frames"] >= 5``),
``windows()`` (the visible top-level windows) and ``vivid(window)``.  Once READY holds
(or TIMEOUT s after the event loop started) each visible window is grabbed, described
on stdout (``window 'TITLE' WxH: N colours, M vivid pixels``) and saved under
test-output/examples/, then every window is closed, as a user would, and the example
ends by itself.  pyqtgraph's tests run its examples the same way (a timer quits the
app from outside), so the examples hold no test code.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

from acqflow.testing import grab_array, save_png
from acqflow.viewers import get_app


def vivid(window) -> int:
    """How many pixels of ``window`` are vivid (a channel spread > 96: curves, markers)."""
    pixels = grab_array(window)[..., :3].reshape(-1, 3).astype(int)
    return int(np.count_nonzero(np.ptp(pixels, axis=1) > 96))


def main(path: str, ready: str, timeout: float = 60.0) -> None:
    from pyqtgraph.Qt import QtCore

    app = get_app()

    def windows() -> list:
        return [w for w in app.topLevelWidgets() if w.isVisible()]

    namespace: dict = {"__name__": "__main__", "__file__": path}
    started: list[float] = []

    def poll() -> None:
        if not started:
            started.append(time.monotonic())          # the example's event loop runs
        try:
            done = bool(eval(ready, {**namespace, "windows": windows, "vivid": vivid}))
        except Exception as exc:                     # names not defined yet, node starting...
            done, why = False, f"{type(exc).__name__}: {exc}"
        else:
            why = "ready" if done else "not ready"
        if not done and time.monotonic() - started[0] < timeout:
            return
        timer.stop()
        print(f"runner: {why} after {time.monotonic() - started[0]:.1f} s", flush=True)
        name = os.path.splitext(os.path.basename(path))[0]
        for k, window in enumerate(windows()):
            colours = len(np.unique(grab_array(window)[..., :3].reshape(-1, 3), axis=0))
            print(f"window {window.windowTitle()!r} {window.width()}x{window.height()}: "
                  f"{colours} colours, {vivid(window)} vivid pixels", flush=True)
            save_png(window, os.path.join("test-output", "examples", f"{name}-{k}.png"))
        app.closeAllWindows()

    timer = QtCore.QTimer()
    timer.timeout.connect(poll)
    timer.start(200)
    sys.argv = [path]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    with open(path) as f:
        code = compile(f.read(), path, "exec")
    exec(code, namespace)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(float(a) for a in sys.argv[3:4]))
