"""Named, versioned suites: a fixed set of tasks × difficulties × counts × seeds, so that two labs running the
same suite generate byte-identical questions and can say so with one hash.

A suite's `definition_hash` covers its entries and the versions of the tasks it uses (a task whose generator
changes gets a new version, and so the suite a new hash); `questions_hash` covers what the question folders
it generated hold (prompts, metadata, frames pixel for pixel), so a lab can check its copy against another's. Both go into experiment.json and the
report header."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from vmevalkit.errors import UserError
from vmevalkit.hashing import sha256_file


@dataclass(frozen=True)
class SuiteEntry:
    """`count` questions of `task` at `difficulty`, with seeds first_seed .. first_seed + count - 1."""

    task: str
    difficulty: str
    first_seed: int
    count: int


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    entries: tuple[SuiteEntry, ...]

    def plan(self) -> list[tuple[str, int, str]]:
        """(task, seed, difficulty) for every question, as vmevalkit.tasks._generate.question_plan gives them."""
        return [(e.task, e.first_seed + i, e.difficulty) for e in self.entries for i in range(e.count)]

    @property
    def size(self) -> int:
        return sum(e.count for e in self.entries)

    def definition_hash(self) -> str:
        """sha256 of the entries and of the task versions they use (first 16 hex digits)."""
        from vmevalkit.tasks import get_task

        versions = {e.task: get_task(e.task).version for e in self.entries}
        blob = json.dumps({"name": self.name, "entries": [e.__dict__ for e in self.entries],
                           "task_versions": versions}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _levels(task: str, counts: tuple[int, int, int]) -> tuple[SuiteEntry, ...]:
    """easy / medium / hard entries of a task; each difficulty has its own block of seeds (0, 1000, 2000)."""
    return tuple(SuiteEntry(task, level, 1000 * i, n) for i, (level, n) in
                 enumerate(zip(("easy", "medium", "hard"), counts)) if n)


CORE_TASKS = ("chess", "counting", "maze", "path_tracing", "raven", "rotation", "sudoku")
NEW_TASKS = ("clock", "hanoi", "letter_count", "light_sequence", "nonogram", "sliding", "subtraction", "subway")
SUITES = {
    "core-v1": Suite("core-v1", "the seven original exact-scored tasks, 10 easy + 10 medium + 10 hard each (210)",
                     tuple(e for task in CORE_TASKS for e in _levels(task, (10, 10, 10)))),
    "core-mini-v1": Suite("core-mini-v1", "a smoke-test slice of core-v1: one easy question per task (7)",
                          tuple(e for task in CORE_TASKS for e in _levels(task, (1, 0, 0)))),
    "reasoning-v1": Suite("reasoning-v1", "all fifteen built-in tasks (core-v1's seven and eight more), 10 easy + "
                          "10 medium + 10 hard each (450)",
                          tuple(e for task in CORE_TASKS + NEW_TASKS for e in _levels(task, (10, 10, 10)))),
    "reasoning-mini-v1": Suite("reasoning-mini-v1", "a smoke-test slice of reasoning-v1: one easy question per task "
                               "(15)", tuple(e for task in CORE_TASKS + NEW_TASKS for e in _levels(task, (1, 0, 0)))),
}


def get_suite(name: str) -> Suite:
    if name not in SUITES:
        raise UserError(f"--suite {name}: unknown suite; known suites: {', '.join(SUITES)}")
    return SUITES[name]


def _content_digest(path: Path) -> str | None:
    """What two labs must agree on in a question file: a PNG's pixels (not its zlib bytes), a text file's
    bytes; None for the solution video, whose bytes depend on the FFmpeg build (only the oracle shows it)."""
    if path.suffix == ".mp4":
        return None
    if path.suffix == ".png":
        from vmevalkit.images import load_rgb

        image = load_rgb(path)
        return hashlib.sha256(repr(image.size).encode() + image.tobytes()).hexdigest()
    return sha256_file(path)


def questions_hash(folders: list[Path], root: str | os.PathLike) -> str:
    """sha256 over the question folders: every file's path under `root` and its content digest (first 16 hex
    digits). Equal hashes mean the same prompts, metadata and frames, pixel for pixel."""
    h = hashlib.sha256()
    root = Path(root)
    for folder in sorted(folders):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest = _content_digest(path)
            if digest is not None:
                h.update(f"{path.relative_to(root).as_posix()}\0{digest}\n".encode())
    return h.hexdigest()[:16]
