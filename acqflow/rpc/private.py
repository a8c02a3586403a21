"""Private local addresses: ipc sockets in a 0700 directory that only this user can enter.

A loopback tcp port is open to every local user; an ipc socket file inside a
directory with mode 0700 cannot even be connected to by anyone else (root
aside).  RPC servers, spawned children, the spawner's status socket and the log
receiver listen there unless an address is given.
"""
from __future__ import annotations

import itertools
import os
import secrets
import stat
import tempfile
import threading
from pathlib import Path

__all__ = ["private_dir", "private_address", "is_private_address"]

_MAX_SUN_PATH = 100         # sockaddr_un.sun_path is 108 bytes; keep margin for the name
_counter = itertools.count(1)
_lock = threading.Lock()
_cleaned: set[str] = set()


def _usable(base: str | None) -> bool:
    if not base:
        return False
    try:
        st = os.stat(base)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


def private_dir() -> Path:
    """This user's directory for acqflow sockets (created 0700; refused if someone else
    owns it or it is a symlink): ``$XDG_RUNTIME_DIR/acqflow`` or ``$TMPDIR/acqflow-UID``."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base is not None and _usable(base) and \
            len(os.path.join(base, "acqflow")) < _MAX_SUN_PATH - 30:
        path = Path(base) / "acqflow"
    else:
        path = Path(tempfile.gettempdir()) / f"acqflow-{os.getuid()}"
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise PermissionError(f"{path} is not a directory owned by uid {os.getuid()}: refusing "
                              "to put private sockets there")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    with _lock:
        if str(path) not in _cleaned:
            _cleaned.add(str(path))
            _remove_stale(path)
    return path


def _remove_stale(path: Path) -> None:
    """Remove socket files left by processes that died without closing them (SIGKILL)."""
    for entry in path.glob("*-*-*"):
        try:
            pid = int(entry.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not os.path.exists(f"/proc/{pid}"):
            try:
                entry.unlink()
            except OSError:
                pass


def private_address(kind: str = "rpc") -> str:
    """A fresh ``ipc://`` address in :func:`private_dir` (``kind-PID-N-RANDOM``)."""
    name = f"{kind}-{os.getpid()}-{next(_counter)}-{secrets.token_hex(3)}"
    return f"ipc://{private_dir() / name}"


def is_private_address(address: str) -> bool:
    """True for an ipc address inside this user's private directory."""
    return address.startswith("ipc://") and \
        os.path.dirname(address[len("ipc://"):]) == str(private_dir())
