"""Private local addresses: ipc sockets in a 0700 directory that only this user can enter.

A loopback tcp port is open to every local user; an ipc socket file inside a
directory with mode 0700 cannot even be connected to by anyone else (root
aside).  Streams, RPC servers, spawned children, the spawner's status socket,
the log receiver and the same-host wake-up FIFOs live there unless an address
is given.  When the usual directory is taken (another user created it first, or
it has the wrong type or mode) a fresh one is made with ``tempfile.mkdtemp`` and
a warning says so once: another local user cannot block this user's sockets.
"""
from __future__ import annotations

import ipaddress
import itertools
import logging
import os
import secrets
import stat
import tempfile
import threading
from pathlib import Path

__all__ = ["private_dir", "private_address", "is_private_address", "is_loopback"]

log = logging.getLogger(__name__)

_MAX_SUN_PATH = 100         # sockaddr_un.sun_path is 108 bytes; keep margin for the name
_counter = itertools.count(1)
_lock = threading.Lock()
_cleaned: set[str] = set()
_fallback: dict[str, Path] = {}    # usual path -> the fresh directory used instead


def _usable(base: str | None) -> bool:
    if not base:
        return False
    try:
        st = os.stat(base)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


ENV_DIR = "ACQFLOW_PRIVATE_DIR"   # set on fallback, so the processes spawned share the directory


def _usual_dir() -> Path:
    """``$ACQFLOW_PRIVATE_DIR`` if set; ``$XDG_RUNTIME_DIR/acqflow`` when that runtime dir
    is ours; else ``$TMPDIR/acqflow-UID``."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base is not None and _usable(base) and \
            len(os.path.join(base, "acqflow")) < _MAX_SUN_PATH - 30:
        return Path(base) / "acqflow"
    return Path(tempfile.gettempdir()) / f"acqflow-{os.getuid()}"


def _problem(path: Path) -> str | None:
    """None when ``path`` is a real directory of this user (mode fixed to 0700), else why not."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        return f"cannot create it ({exc.strerror or exc})"
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    if st.st_uid != os.getuid():
        return f"it belongs to uid {st.st_uid}"
    if st.st_mode & 0o077:
        try:
            os.chmod(path, 0o700)
        except OSError as exc:
            return f"its mode {stat.S_IMODE(st.st_mode):o} cannot be fixed ({exc.strerror or exc})"
    return None


def private_dir() -> Path:
    """This user's 0700 directory for acqflow sockets: ``$XDG_RUNTIME_DIR/acqflow`` or
    ``$TMPDIR/acqflow-UID``; a fresh ``mkdtemp`` one (logged once) when that is taken."""
    path = _usual_dir()
    with _lock:
        fresh = _fallback.get(str(path))
        if fresh is not None and _problem(fresh) is None:
            return fresh
        problem = _problem(path)
        if problem is not None:
            fresh = Path(tempfile.mkdtemp(prefix=f"acqflow-{os.getuid()}-"))   # 0700, ours
            _fallback[str(path)] = fresh
            os.environ[ENV_DIR] = str(fresh)
            log.warning("private socket directory %s is unusable (%s): using %s instead",
                        path, problem, fresh)
            path = fresh
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


def is_loopback(address: str) -> bool:
    """True for ipc://, inproc:// and tcp:// addresses on a loopback interface."""
    if address.startswith(("ipc://", "inproc://")):
        return True
    if not address.startswith("tcp://"):
        return False
    host = address[6:].rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
