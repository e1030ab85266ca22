"""Inter-process locks on files (`flock`, which Linux also honours on NFS), for the few read-modify-write
steps that processes sharing an experiment must not interleave: claims, publishing, run records, scoring."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path, waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if needed); `waiting` is called once if another holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def experiment_lock(experiment_dir: Path) -> AbstractContextManager[None]:
    """The lock of one experiment folder (held briefly: claims, publishing an item, experiment.json)."""
    return file_lock(experiment_dir / ".lock")
