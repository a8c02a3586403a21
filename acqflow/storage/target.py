"""Where a RecordingWriter's files go, from opening to commit or abort.

The one rule: a writer deletes or rewrites nothing it did not create.

* ``create``: the recording appears complete with its manifest (made in a sibling temp
  directory, renamed into place); an abort removes it.  ``deferred``: it appears only at
  :meth:`WriteTarget.publish` (a Recorder's start) or the commit, like an overwrite, so a
  writer killed before that leaves no recording at ``path``.
* ``overwrite``: the new recording is written beside the old one (``.NAME.creating-*``)
  and swapped in by :meth:`WriteTarget.publish` (a Recorder's start, or the commit); the
  old one is removed only then.  An abort before that leaves the old one untouched.
* ``append``: nothing changes until data is appended: the repair of a torn tail and the
  "open" manifest are written then (:meth:`WriteTarget.open_files`).  An abort cuts the
  files back to what they were and puts the original manifest bytes back.

A writer given a ``run`` id continues (appends to) a recording whose manifest names the
same run, whatever its mode: that is how a rebuilt Recorder carries on its recording.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from .backends import (LOCK, fsync_dir, is_being_written, lock_writer, rename_new, replace_dir,
                       write_atomic, write_owner)
from .errors import NotARecordingError, RecordingExistsError, StorageError
from .manifest import MANIFEST, SEGMENTS, dumps, loads, new_manifest
from .segments import AppendPlan, plan_append, restore_sizes

__all__ = ["WriteTarget", "recording_run"]

log = logging.getLogger(__name__)


def recording_run(path: str | os.PathLike) -> str | None:
    """The ``run`` id stored in the manifest of the recording at ``path`` (None if none)."""
    try:
        manifest = loads((Path(path) / MANIFEST).read_bytes(), str(path))
    except (OSError, StorageError):
        return None
    run = manifest.get("run")
    return run if isinstance(run, str) else None


class WriteTarget:
    """The directory a writer writes into (``root``) and how it becomes ``path``."""

    def __init__(self, path: Path, mode: str, settings: dict[str, Any],
                 metadata: dict[str, Any] | None, run: str | None = None,
                 deferred: bool = False):
        self.path = self.root = path
        self.run = run
        self.deferred = deferred
        self.lock = threading.Lock()          # manifest writes and the swap
        self.pending: list[Callable[[], Any]] = []   # changes kept for the next manifest write
        self.lock_fd: int | None = None
        self.plan: AppendPlan | None = None
        self.files_open = False               # append: repaired and marked open on disk
        self._old_lock_fd: int | None = None  # overwrite: the recording being replaced
        self._created = False
        self._original: bytes | None = None   # append: the manifest's bytes before us
        self._restore: dict[str, int] | None = None
        self._was_committed = False
        self.dirty = False                    # append: streams or metadata added
        if run is not None and recording_run(path) == run:
            log.info("%s: continuing the recording of run %s", path, run)
            mode = "append"
        self.mode = mode
        try:
            self._prepare(settings, metadata)
        except BaseException:
            self.release()
            raise

    # -- opening ---------------------------------------------------------------
    def _prepare(self, settings: dict, metadata: dict | None) -> None:
        root, mode = self.path, self.mode
        if os.path.lexists(root):
            is_rec = (root / MANIFEST).exists()
            if is_rec and mode != "create" and is_being_written(root):
                raise RecordingExistsError(f"{root} is being written by another writer")
            if mode == "create":
                raise RecordingExistsError(f"{root} exists; use mode='overwrite' or 'append'")
            if mode == "append":
                if not is_rec:
                    raise NotARecordingError(f"{root}: nothing to append to (no {MANIFEST})")
                return self._prepare_append(settings, metadata)
            if not is_rec and (not root.is_dir() or any(root.iterdir())):
                raise RecordingExistsError(f"{root} is not a recording and not an empty "
                                           "directory; refusing to replace it")
            if is_rec and (root / LOCK).exists():     # kept from other writers until replaced
                self._old_lock_fd = lock_writer(root, owner=False)   # its bytes stay as they are
                if self._old_lock_fd is None:
                    raise RecordingExistsError(f"{root} is being written by another writer")
            self.mode = "overwrite"
        else:
            self.mode = "create"          # overwrite/append of nothing: a new recording
        self.manifest = new_manifest(settings, metadata)
        if self.run is not None:
            self.manifest["run"] = self.run
            self._drop_own_leftovers()
        tmp = root.with_name(f".{root.name}.creating-{uuid.uuid4().hex[:12]}")
        (tmp / SEGMENTS).mkdir(parents=True)
        self.lock_fd = lock_writer(tmp)  # flock follows the inode through the rename
        write_atomic(tmp / MANIFEST, dumps(self.manifest))
        self.root = tmp
        if self.mode == "overwrite" or self.deferred:
            return                        # written beside; publish() moves it in
        try:
            rename_new(tmp, root)  # the recording appears complete with its manifest, or not
        except FileExistsError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise RecordingExistsError(f"{root} appeared while creating it") from None
        self.root, self._created = root, True
        fsync_dir(root.parent)

    def _drop_own_leftovers(self) -> None:
        """Remove unfinished overwrites or deferred creates of ``path`` left by this same
        run (its writer killed before the swap); another run's are not this writer's to
        delete."""
        prefix = f".{self.path.name}.creating-"
        names = os.listdir(self.path.parent) if self.path.parent.is_dir() else []
        for name in names:
            tmp = self.path.parent / name
            if name.startswith(prefix) and recording_run(tmp) == self.run \
                    and not is_being_written(tmp):
                shutil.rmtree(tmp, ignore_errors=True)

    def _prepare_append(self, settings: dict, metadata: dict | None) -> None:
        self.lock_fd = lock_writer(self.path, owner=False)    # named once it writes
        if self.lock_fd is None:
            raise RecordingExistsError(f"{self.path} is being written by another writer")
        self._original = (self.path / MANIFEST).read_bytes()
        self.manifest = loads(self._original, str(self.path))
        self._was_committed = self.manifest.get("state") == "closed"
        self.plan = plan_append(self.path)
        self.manifest.update(state="open", closed=None, writer=settings)
        self.manifest.setdefault("appended", []).append(time.time())
        if self.run is not None:
            self.manifest["run"] = self.run
        if metadata:
            self.dirty = any(self.manifest["metadata"].get(k) != v for k, v in metadata.items())
            self.manifest["metadata"].update(metadata)

    @property
    def start(self) -> tuple[int, int, int]:
        """(segment, byte offset, next block seq) where writing continues."""
        return self.plan.start if self.plan is not None else (0, 0, 0)

    def open_files(self) -> None:
        """Before the first block: in append mode, repair a torn tail and mark the
        recording open on disk (nothing changed until then)."""
        with self.lock:
            if self.files_open:
                return
            if self.plan is not None:
                self._restore = self.plan.apply()
                write_atomic(self.root / MANIFEST, dumps(self.manifest))
                assert self.lock_fd is not None      # (append mode: locked when opened)
                write_owner(self.lock_fd)
            self.files_open = True

    def defer(self, change: Callable[[], Any]) -> None:
        """Keep ``change`` for the next :meth:`write_manifest` (the writer thread's): no
        file is written now."""
        with self.lock:
            self.pending.append(change)

    def write_manifest(self, change: Callable[[], Any] | None = None) -> None:
        """Apply the deferred changes, then ``change``, to the manifest and write it now
        (append mode: the writing is deferred until data is appended)."""
        with self.lock:
            pending, self.pending = self.pending, []
            for deferred in pending:
                deferred()
            if change is not None:
                change()
            if self.plan is None or self.files_open:
                write_atomic(self.root / MANIFEST, dumps(self.manifest))

    @property
    def changes(self) -> bool:
        """Whether the commit has anything to write: always, except for an append to a
        committed recording that appended no data and added no stream or metadata."""
        untouched = self.plan is not None and not self.files_open
        return not (untouched and not self.dirty and self._was_committed)

    def publish(self, on_moved: Callable[[Path], None] | None = None) -> None:
        """Overwrite: put the new recording at ``path`` and remove the old one; deferred
        create: move it to ``path`` (no-op otherwise, and when done).  ``on_moved(path)``
        runs under the swap."""
        with self.lock:
            if self.root == self.path:
                return
            if self.mode == "overwrite":
                old = replace_dir(self.root, self.path)
            else:
                old = None
                try:
                    rename_new(self.root, self.path)
                except FileExistsError:
                    raise RecordingExistsError(f"{self.path} appeared while recording "
                                               f"beside it (in {self.root})") from None
            self.root = self.path
            self._created = True
            if on_moved is not None:
                on_moved(self.path)
            fsync_dir(self.path.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)   # the recording this overwrite replaces
        self._release_old()

    # -- ending ----------------------------------------------------------------
    def abort(self) -> None:
        """Remove what this writer created; leave what existed as it was."""
        with self.lock:
            if self._created or self.root != self.path:
                shutil.rmtree(self.root, ignore_errors=True)
            elif self._restore is not None:
                restore_sizes(self.path, self._restore)
                if self._original is not None:       # (append mode: always read)
                    write_atomic(self.path / MANIFEST, self._original)
        self.release()

    def _release_old(self) -> None:
        if self._old_lock_fd is not None:
            os.close(self._old_lock_fd)
            self._old_lock_fd = None

    def release(self) -> None:
        """Free the writer locks (after commit or abort)."""
        self._release_old()
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None
