"""Keeping reads inside the folder the user gave: a path that leads outside it (through a symlink on the
path itself or on a folder above it, or through `..`) is refused, so a dataset or an output tree cannot
make the kit read, copy or publish any other file of the machine."""

from __future__ import annotations

import os
from pathlib import Path


def escape(path: str | os.PathLike, root: str | os.PathLike) -> Path | None:
    """Where `path` really leads (symlinks and `..` resolved) when that is outside `root`, else None."""
    target = Path(os.path.realpath(path))
    base = Path(os.path.realpath(root))
    return None if target == base or base in target.parents else target


def escape_text(path: str | os.PathLike, root: str | os.PathLike) -> str | None:
    """`'<path> -> <target>: outside <root>'` when `path` leads outside `root`, else None."""
    target = escape(path, root)
    return None if target is None else f"{path} -> {target}: outside {root}"
