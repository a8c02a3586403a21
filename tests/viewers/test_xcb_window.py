"""A real window on a real X server (Xvfb) through Qt's xcb plugin, as on a Linux desktop.

Every other viewer test draws offscreen; this one loads the xcb platform plugin, so it
fails when a library the plugin needs is missing (Qt then aborts: "Could not load the Qt
platform plugin xcb", exit code 134).  ./run installs them (SYSTEM_PACKAGES).
"""
import os
import shutil
import subprocess
import sys
import threading

import pytest

from acqflow.testing import wait_for

pytest.importorskip("PyQt5")

WINDOW = r"""
import numpy as np
from acqflow.devices.synthetic import SyntheticSignal
from acqflow.viewers import Oscilloscope, get_app, process_events_until

app = get_app()
sig = SyntheticSignal(name="sig")
sig.configure(channels=4, sample_rate=1000.0, chunksize=20, frequencies=[2, 3, 5, 7])
sig.outputs["signals"].configure(protocol="inproc")
sig.initialize()
scope = Oscilloscope(name="scope")
scope.configure(xsize=1.0, size=(400, 300), title="xcb check")
scope.input.connect(sig.outputs["signals"])
scope.initialize()                       # shows the window
scope.start()
sig.start()
handle = lambda: scope.widget.windowHandle()
assert process_events_until(lambda: handle() is not None and handle().isExposed()
                            and scope.counters()["frames"] >= 5, timeout=30), "never shown"
# a screenshot from the X server (GetImage), not Qt's own rendering
shot = app.primaryScreen().grabWindow(int(scope.widget.winId())).toImage()
pixels = np.array([shot.pixel(x, y) for x in range(0, shot.width(), 4)
                   for y in range(0, shot.height(), 4)])
print("platform", app.platformName(), "window", shot.width(), shot.height(),
      "colours", len(np.unique(pixels)), flush=True)
for node in (sig, scope):
    node.close()
"""


def missing_libraries() -> list[str]:
    """What ``ldd`` says the xcb plugin (and Qt's xcb library) cannot find."""
    import PyQt5
    qt = os.path.join(os.path.dirname(PyQt5.__file__), "Qt5")
    plugin = os.path.join(qt, "plugins", "platforms", "libqxcb.so")
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(qt, "lib"))
    out = subprocess.run(["ldd", plugin], capture_output=True, text=True, env=env).stdout
    return sorted({ln.split()[0] for ln in out.splitlines() if "not found" in ln})


@pytest.fixture
def xvfb():
    """A private X server; its display name (``:N``, the first free one Xvfb found)."""
    if shutil.which("Xvfb") is None:
        pytest.skip("no Xvfb binary (apt-get install xvfb; ./run setup installs it)")
    r, w = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "800x600x24",
                               "-nolisten", "tcp"], pass_fds=[w], stderr=subprocess.PIPE)
    os.close(w)
    number: list[bytes] = []
    reader = threading.Thread(target=lambda: number.append(os.read(r, 64)), daemon=True)
    reader.start()
    try:
        wait_for(lambda: number or server.poll() is not None, timeout=30,
                 message="Xvfb to pick a display")
        assert number and number[0].strip(), server.stderr.read().decode()[-2000:]
        yield f":{number[0].decode().strip()}"
    finally:
        server.terminate()
        server.wait(30)
        os.close(r)


def test_the_xcb_plugin_finds_its_libraries():
    assert missing_libraries() == [], ("Qt's xcb plugin cannot load without these; "
                                       "./run setup installs them (SYSTEM_PACKAGES)")


def test_a_viewer_window_on_a_real_x_server(xvfb):
    env = dict(os.environ, DISPLAY=xvfb, QT_QPA_PLATFORM="xcb")
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run([sys.executable, "-c", WINDOW], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, (f"exit code {result.returncode} (134: Qt aborted, e.g. "
                                    f"the xcb plugin could not load)\n{result.stderr[-3000:]}")
    words = result.stdout.split()
    assert words[:2] == ["platform", "xcb"], result.stdout
    width, height, colours = int(words[3]), int(words[4]), int(words[6])
    assert width >= 200 and height >= 150 and colours > 2, result.stdout
