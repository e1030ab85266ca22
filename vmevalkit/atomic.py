"""Atomic file writes: write to a temporary name in the same folder, fsync, then rename.

Text (write_text, write_json, append_line) passes through vmevalkit.secrets.scrub first, so no file the kit
writes can hold a registered secret."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from vmevalkit.errors import UserError
from vmevalkit.secrets import scrub


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it is renamed onto `path`, else removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial" + path.suffix, dir=path.parent)
    os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600 files; give them the usual permissions
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def make_writable_dir(path: str | os.PathLike, what: str, flag: str) -> None:
    """Create the folder `path` if needed and prove a file can be written in it, else UserError naming it, the
    reason and the flag (`what`: "output folder", "report folder", ...) that chooses another."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"{path}: cannot create the {what} ({e.strerror or e}); choose a writable {flag}") from e
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UserError(f"{path}: cannot write in the {what} ({e.strerror or e}); choose a writable {flag}") from e


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, scrub(text).encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def append_line(path: str | os.PathLike, line: str) -> None:
    """Append one line with a single write on an O_APPEND descriptor, so lines never interleave. A symlink at
    `path` is refused rather than followed: appending never writes into a file elsewhere."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (scrub(line).rstrip("\n") + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise UserError(f"{path}: is a symlink (to {os.readlink(path)}); the kit appends only to a file of its "
                            "own: replace the link with a copy of the file") from e
        raise
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
