"""Writing generated questions as VMEvalKit question folders (used by `vmevalkit tasks generate`
and by the runner's `--tasks`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from vmevalkit.errors import UserError
from vmevalkit.jsonfile import json_object_or_none
from vmevalkit.limits import QUESTIONS_PER_TASK, check_count
from vmevalkit.questions import GROUND_TRUTH, METADATA, write_question
from vmevalkit.video import write_mp4


def _already_written(folder: Path, expected: dict) -> bool:
    """A folder is complete when its metadata (written last) matches and the solution video exists."""
    on_disk = json_object_or_none(folder / METADATA)
    if on_disk is None:
        return False
    keys = ("task", "task_version", "seed", "difficulty")
    return all(on_disk.get(k) == expected[k] for k in keys) and (folder / GROUND_TRUTH).is_file()


def question_plan(task_names: Iterable[str], n: int, seed: int, difficulty: str | None) -> list[tuple[str, int, str]]:
    """(task, seed, difficulty) for every question: seeds seed..seed+n-1 per task (seed >= 0, 1 <= n <= the
    limit vmevalkit.limits.QUESTIONS_PER_TASK); with no difficulty given, the task's difficulties take turns."""
    from vmevalkit.tasks import get_task

    check_count("--n", n, QUESTIONS_PER_TASK)
    if seed < 0:
        raise UserError(f"the seed must be 0 or more (it numbers the question folders), got {seed}")
    plan = []
    for name in dict.fromkeys(task_names):  # a task named twice is generated once
        task = get_task(name)
        levels = [difficulty] if difficulty else list(task.difficulties)
        plan += [(name, seed + i, levels[i % len(levels)]) for i in range(n)]
    return plan


def question_id(task: str, seed: int) -> str:
    """The folder name of a generated question: `<task>_<seed>` (seed zero-padded to four digits)."""
    return f"{task}_{seed:04d}"


def generate_questions(task_names: Iterable[str], n: int, seed: int, difficulty: str | None,
                       out_dir: str | os.PathLike,
                       progress: Callable[[str], None] | None = None) -> list[Path]:
    """Generate `n` questions per task into `out_dir/<task>_task/<task>_<seed>/` and return the folders.

    Question i of a task uses seed `seed + i`. Folders already holding the same question are kept
    (a rerun resumes); the solution video is written before the metadata, so an interrupted folder
    never looks complete."""
    return write_planned_questions(question_plan(list(task_names), n, seed, difficulty), out_dir, progress)


def write_planned_questions(plan: list[tuple[str, int, str]], out_dir: str | os.PathLike,
                            progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write the questions of a `question_plan` (or part of one) and return their folders."""
    from vmevalkit.tasks import get_task

    folders = []
    for name, question_seed, level in plan:
        task = get_task(name)
        folder = Path(out_dir) / f"{name}_task" / question_id(name, question_seed)
        expected = {"task": name, "task_version": task.version, "seed": question_seed, "difficulty": level}
        if not _already_written(folder, expected):
            generated = task.generate(question_seed, level)
            question = replace(generated.question, id=folder.name, domain=name, ground_truth=None)
            (folder / METADATA).unlink(missing_ok=True)
            write_mp4(generated.solution, folder / GROUND_TRUTH)
            write_question(question, out_dir)
        folders.append(folder)
        if progress is not None:
            progress(str(folder))
    return folders
