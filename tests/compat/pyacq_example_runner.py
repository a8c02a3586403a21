"""Run one of pyacq's examples as written, as ``python -i EXAMPLE.py`` runs it.

    python -m tests.compat.pyacq_example_runner EXAMPLE.py SECONDS [REPORT]

pyacq's examples build their nodes, start them and end without ``app.exec_()``: they are
meant for an interactive session, whose Qt input hook runs the event loop while the prompt
waits.  The runner executes the example as ``__main__``, then runs the Qt event loop for
SECONDS (what the session would do until the user quits) and prints ``report: VALUE``,
REPORT being a Python expression on the example's names.  The example holds no test code.
"""
from __future__ import annotations

import os
import sys


def main(path: str, seconds: float, report: str | None = None) -> None:
    namespace: dict = {"__name__": "__main__", "__file__": path}
    sys.argv = [path]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), namespace)
    from pyqtgraph.Qt import QtCore, QtWidgets
    app = QtWidgets.QApplication.instance()
    if app is not None:
        QtCore.QTimer.singleShot(int(seconds * 1000), app.quit)
        app.exec_()
    if report:
        print(f"report: {eval(report, namespace)!r}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), *sys.argv[3:4])
