"""Hidden folders in which releases are assembled, and the removal of those a killed process left.

A release is written into ``releases/.staging-<id>/`` and renamed to
``releases/<id>/`` once complete. While it is assembled, its process holds an
exclusive ``flock`` on ``releases/.staging-<id>.lock``, taken before the folder
is made and let go after it is renamed. The operating system lets go of the
lock when the process ends, however it ends, so a staging folder whose lock
can be taken belongs to no running release: it was abandoned (the process was
killed) and is removed, with its lock file, before the next release is staged.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = ".staging-"
LOCK_SUFFIX = ".lock"


@contextmanager
def staging_folder(releases: Path, release_id: str) -> Iterator[Path]:
    """The staging folder of release ``release_id`` (made empty, under its lock), after removing abandoned ones.

    The caller renames it into place; what is left of it is removed on leaving,
    and the lock let go.
    """
    releases.mkdir(parents=True, exist_ok=True)
    remove_abandoned(releases)
    lock, folder = releases / f"{PREFIX}{release_id}{LOCK_SUFFIX}", releases / f"{PREFIX}{release_id}"
    with _locked(lock):
        try:
            folder.mkdir()
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            lock.unlink(missing_ok=True)


@contextmanager
def _locked(lock: Path) -> Iterator[None]:
    """Hold ``flock`` on the file ``lock`` (made if missing), the one at that path when the lock is taken.

    Another process may remove the file between its opening and the lock (it
    found it unlocked): then the file is made and locked again.
    """
    while True:
        with lock.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if lock.exists() and os.fstat(handle.fileno()).st_ino == lock.stat().st_ino:
                yield
                return


def remove_abandoned(releases: Path) -> None:
    """Remove the staging folders (and their lock files) that no running process holds."""
    for lock in releases.glob(f"{PREFIX}*{LOCK_SUFFIX}"):
        with lock.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a release is being assembled there
            release_id = lock.name[len(PREFIX):-len(LOCK_SUFFIX)]
            shutil.rmtree(releases / f"{PREFIX}{release_id}", ignore_errors=True)
            lock.unlink(missing_ok=True)
