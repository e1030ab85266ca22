"""`RunOptions`, everything `vmevalkit run` takes, and the checks that refuse unusable options before any work."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from vmevalkit import limits
from vmevalkit.errors import UserError
from vmevalkit.geometry import POLICIES
from vmevalkit.limits import check_count
from vmevalkit.results import DEFAULT_OUTPUT_DIR, check_experiment_name

DEFAULT_MODELS = ("videocrafter-tiny",)
DEMO_EXPERIMENT = "demo"
DEMO_TASKS = ("maze", "sudoku", "counting")  # the no-flags demo: one easy question of each


@dataclass
class RunOptions:
    """Everything `vmevalkit run` takes; see `vmevalkit run --help`."""

    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    experiment: str | None = None
    output_dir: Path = DEFAULT_OUTPUT_DIR
    questions: Path | None = None
    tasks: list[str] | None = None
    n: int = 5
    difficulty: str | None = None
    seed: int = 0
    device: str = "auto"
    dtype: str = "auto"
    limit: int | None = None
    fit: str = "letterbox"
    controls: bool = True
    overrides: dict[str, str] = field(default_factory=dict)
    cache_dir: Path | None = None
    threads: int | None = None  # torch CPU threads; None: torch's default
    progress: bool = True
    score: bool = True  # end with `vmevalkit score --scorer auto` and print the leaderboard
    samples: int = 1  # videos per (model, question), each with its own seed
    shard: tuple[int, int] | None = None  # (I, N): make only the items of shard I of N
    max_cost: float | None = None  # USD: no item is started that would take the estimated spend past it
    dry_run: bool = False  # print the plan (items x price) and stop before loading anything
    ray: str | None = None  # run the models on Ray: "auto", "local" or a cluster address
    suite: str | None = None  # a named, versioned suite of generated questions (vmevalkit.tasks.suites)


def check_options(opts: RunOptions) -> None:
    """Refuse options no run can use, naming the flag and the fix."""
    if opts.fit not in POLICIES:
        raise UserError(f"--fit {opts.fit}: choose one of {', '.join(POLICIES)}")
    if opts.tasks is not None:
        check_count("--n", opts.n, limits.QUESTIONS_PER_TASK)
    if opts.limit is not None:
        check_count("--limit", opts.limit, limits.QUESTIONS)
    check_count("--samples", opts.samples, limits.SAMPLES)
    if opts.threads is not None and opts.threads < 1:
        raise UserError(f"--threads {opts.threads}: give a number >= 1")
    if opts.max_cost is not None and not opts.max_cost >= 0:
        raise UserError(f"--max-cost {opts.max_cost}: give a budget in USD, 0 or more")


def experiment_name(opts: RunOptions) -> str:
    """The experiment's folder name: --experiment, else the questions folder's name, suite-<name>,
    tasks-<names> or demo."""
    if opts.experiment is not None:
        name = opts.experiment
    elif opts.questions is not None:  # a folder name as it is, its odd characters made '-'
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(opts.questions).resolve().name).strip("-.") or "questions"
    elif opts.suite is not None:
        name = f"suite-{opts.suite}"
    elif opts.tasks:
        name = "tasks-" + "-".join(opts.tasks)
    else:
        name = DEMO_EXPERIMENT
    return check_experiment_name(name)
