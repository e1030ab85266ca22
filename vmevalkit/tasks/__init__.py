"""Built-in reasoning tasks. Every module here that defines `TASK` (a Task) is registered."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from vmevalkit.errors import UserError
from vmevalkit.tasks._generate import generate_questions
from vmevalkit.tasks.base import Task

__all__ = ["Task", "all_tasks", "generate_questions", "get_task"]


@lru_cache(maxsize=1)
def all_tasks() -> dict[str, Task]:
    found: dict[str, Task] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        task = getattr(importlib.import_module(f"{__name__}.{info.name}"), "TASK", None)
        if isinstance(task, Task):
            found[task.name] = task
    return dict(sorted(found.items()))


def get_task(name: str) -> Task:
    tasks = all_tasks()
    if name not in tasks:
        raise UserError(f"unknown task {name!r}; known tasks: {', '.join(tasks) or 'none'}")
    return tasks[name]

