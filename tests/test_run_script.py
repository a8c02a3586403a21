"""./run: its usage names every command; it installs every library Qt's xcb plugin loads."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def system_packages() -> set[str]:
    text = open(os.path.join(ROOT, "run")).read()
    return set(re.search(r"SYSTEM_PACKAGES=\(([^)]*)\)", text).group(1).split())


def test_usage_names_every_command():
    result = subprocess.run(["bash", os.path.join(ROOT, "run"), "nope"], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2
    commands = re.findall(r"^\s+(\w+)\)", open(os.path.join(ROOT, "run")).read(), re.M)
    assert set(commands) == {"demo", "test", "bench", "docs", "setup"}
    assert all(c in result.stderr for c in commands), result.stderr


def test_system_packages_hold_the_xcb_plugins_libraries():
    """Each X/xcb library ldd finds for PyQt5's xcb plugin comes from a listed package."""
    PyQt5 = pytest.importorskip("PyQt5")
    if shutil.which("dpkg") is None:
        pytest.skip("not a Debian-based system (no dpkg)")
    qt = os.path.join(os.path.dirname(PyQt5.__file__), "Qt5")
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(qt, "lib"))
    libs = subprocess.run(["ldd", os.path.join(qt, "plugins", "platforms", "libqxcb.so"),
                           os.path.join(qt, "lib", "libQt5XcbQpa.so.5")],
                          capture_output=True, text=True, env=env).stdout
    found = re.findall(r"\s(lib(?:xcb|X11|Xext|xkbcommon)[^\s]*) => (/\S+)", libs)
    assert found and "not found" not in libs, libs
    owners = {}
    for name, path in found:
        out = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True,
                             text=True).stdout or subprocess.run(
            ["dpkg", "-S", path], capture_output=True, text=True).stdout
        owners[name] = out.split(":")[0]
    missing = {lib: pkg for lib, pkg in owners.items() if pkg and pkg not in system_packages()}
    assert not missing, f"add to SYSTEM_PACKAGES in ./run: {missing}"
