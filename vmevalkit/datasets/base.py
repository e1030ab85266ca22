"""What an importer of an external question set provides: where the set lives, its licence, and its records."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image

from vmevalkit.errors import UserError

_NOT_PLAIN = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Record:
    """One question of an external set, read from its files but not yet decoded.

    `images()` decodes (first frame, expected final frame or None); it raises UserError for a broken image,
    which makes this record a problem of the import, not its end. `metadata` holds what the set says about
    the question (original id, original answer, split, file, ...); the importer adds the source."""

    domain: str
    id: str
    prompt: str
    images: Callable[[], tuple[Image.Image, Image.Image | None]]
    metadata: dict[str, Any] = field(default_factory=dict)
    ground_truth: Path | None = None  # a solution video to copy as ground_truth.mp4


@dataclass(frozen=True)
class DatasetSource:
    """An external question set on the Hugging Face Hub and how to read a snapshot of it into Records."""

    name: str  # what `vmevalkit tasks import NAME` takes
    title: str  # the set's own name, as its authors write it
    repo_id: str  # a Hugging Face dataset repository
    licence: str
    description: str
    allow_patterns: tuple[str, ...]  # the files of the repository the import needs
    # (snapshot folder, scratch folder for what must be unpacked) -> a Record per question, in the set's order,
    # or a one-line problem (a broken file, an entry without an image) in its place
    read: Callable[[Path, Path], Iterator[Record | str]]
    version: str = "1"  # of the conversion: a new version re-imports questions made by an older one

    @property
    def url(self) -> str:
        return f"https://huggingface.co/datasets/{self.repo_id}"


def plain_name(text: str, what: str) -> str:
    """`text` as a folder name the kit accepts (letters, digits, '.', '_', '-'; starting with a letter or digit)."""
    name = _NOT_PLAIN.sub("_", str(text)).lstrip("._-")
    if not name:
        raise UserError(f"{what} {text!r} has no letter or digit to name a folder with")
    return name


def inside(root: Path, relative: str, what: str) -> Path:
    """`root / relative` for a path a set's index names, refusing one that would leave `root`."""
    parts = PurePosixPath(relative.replace("\\", "/")).parts
    if not parts or relative.startswith("/") or ".." in parts:
        raise UserError(f"{what} {relative!r} is not a path inside the data set")
    return root.joinpath(*parts)
