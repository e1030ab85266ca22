"""The leaderboard of an experiment: models x tasks success rates from its items and score rows.

Each item counts once, with one verdict: under the `auto` policy, the first scorer kind in
SCORER_PRECEDENCE that judged it (a built-in task's exact checker, then a human, then a VLM judge,
then the similarity scorer); otherwise the named scorer (`human`, `similarity`, `vlm` or a full
name such as `vlm:qwen2-vl`). Items with no verdict (failed generation, not yet scored, or only
scorer errors) are counted as unscored, never as right or wrong. Rows about an earlier video of the
item (its sha256 differs from the video now on disk) are ignored. The controls (`oracle`, `static`,
or any model the runner recorded as kind "control") are reference rows, not ranked; models with
random weights (metadata "untrained") are ranked but labelled.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from vmevalkit.errors import UserError
from vmevalkit.hashing import sha256_file
from vmevalkit.report.stats import Agreement, agreement, bootstrap_interval
from vmevalkit.results import iter_items
from vmevalkit.scoring.rows import about_video, read_rows, scorer_kind

SCORER_PRECEDENCE = ("exact", "human", "vlm", "similarity")
CONTROL_MODELS = ("oracle", "static")
ALL = "all"  # the column over every task


@dataclass
class ItemResult:
    """One (model, question) item with the latest row of every scorer that judged it."""

    model: str
    question: str
    domain: str
    control: bool
    untrained: bool
    folder: Path
    video: Path | None  # None when the model produced no video
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    chosen: dict[str, Any] | None = None  # the row that counts on the leaderboard

    @property
    def verdict(self) -> bool | None:
        return None if self.chosen is None else self.chosen["correct"]


@dataclass
class Cell:
    model: str
    task: str
    correct: int = 0
    judged: int = 0
    unscored: int = 0
    low: float = float("nan")
    high: float = float("nan")
    scorers: Counter = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.correct / self.judged if self.judged else float("nan")


@dataclass
class Leaderboard:
    experiment: str
    policy: str
    tasks: list[str]
    models: list[str]  # ranked, best first
    controls: list[str]
    untrained: set[str]
    cells: dict[tuple[str, str], Cell]
    agreements: list[Agreement]
    items: list[ItemResult]

    @property
    def rows(self) -> list[str]:
        return self.models + self.controls

    @property
    def scored(self) -> int:
        return sum(item.chosen is not None for item in self.items)


def is_control(model: str, metadata: dict[str, Any]) -> bool:
    return model in CONTROL_MODELS or (metadata.get("model_description") or {}).get("kind") == "control"


def choose_row(rows: dict[str, dict[str, Any]], policy: str = "auto") -> dict[str, Any] | None:
    """The row that decides an item under `policy` (see the module docstring), or None."""
    judged = [r for r in rows.values() if r.get("correct") is not None]
    if policy != "auto":
        judged = [r for r in judged if policy in (r["scorer"], scorer_kind(r["scorer"]))]
    rank = {kind: i for i, kind in enumerate(SCORER_PRECEDENCE)}
    judged.sort(key=lambda r: (rank.get(scorer_kind(r["scorer"]), len(rank)), r["scorer"]))
    return judged[0] if judged else None


def load_items(experiment_dir: str | os.PathLike, policy: str = "auto") -> list[ItemResult]:
    """Every item of the experiment with the rows about its current video; other rows are ignored."""
    by_item: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for row in read_rows(experiment_dir):
        by_item.setdefault((row["model"], row["question"]), {})[row["scorer"]] = row
    items = []
    for item in iter_items(experiment_dir):
        has_video = item.ok and item.video_path.is_file()
        sha = sha256_file(item.video_path) if has_video else None
        rows = {name: row for name, row in by_item.get((item.model, item.question_key), {}).items()
                if sha is not None and about_video(row, sha)}
        items.append(ItemResult(
            model=item.model, question=item.question_key, domain=item.metadata["question"]["domain"],
            control=is_control(item.model, item.metadata), untrained=bool(item.metadata.get("untrained")),
            folder=item.folder,
            video=item.video_path if has_video else None, rows=rows,
            chosen=choose_row(rows, policy)))
    return items


def _cell(model: str, task: str, items: list[ItemResult], resamples: int, seed: int) -> Cell:
    cell = Cell(model, task)
    groups: dict[str, list[int]] = {}
    for item in items:
        if item.verdict is None:
            cell.unscored += 1
            continue
        cell.scorers[item.chosen["scorer"]] += 1
        counts = groups.setdefault(item.domain, [0, 0])
        counts[0] += bool(item.verdict)
        counts[1] += 1
    cell.correct = sum(c for c, _ in groups.values())
    cell.judged = sum(n for _, n in groups.values())
    cell.low, cell.high = bootstrap_interval([tuple(g) for g in groups.values()], resamples, seed)
    return cell


def _agreements(items: list[ItemResult]) -> list[Agreement]:
    scorers = sorted({s for item in items for s, r in item.rows.items() if r.get("correct") is not None})
    found = []
    for first, second in combinations(scorers, 2):
        pairs = [(item.rows[first]["correct"], item.rows[second]["correct"]) for item in items
                 if item.rows.get(first, {}).get("correct") is not None
                 and item.rows.get(second, {}).get("correct") is not None]
        if pairs:
            found.append(agreement(first, second, pairs))
    return found


def build_leaderboard(experiment_dir: str | os.PathLike, policy: str = "auto", resamples: int = 10_000,
                      seed: int = 0) -> Leaderboard:
    items = load_items(experiment_dir, policy)
    if not items:
        raise UserError(f"{experiment_dir}: no results found (expected <model>/<domain>_task/<question>/metadata.json)")
    scorers = {name for item in items for name in item.rows}
    if policy != "auto" and scorers and not any(policy in (s, scorer_kind(s)) for s in scorers):
        raise UserError(f"no verdicts from scorer {policy!r} in this experiment; it has: {', '.join(sorted(scorers))}")
    tasks = sorted({item.domain for item in items})
    models = sorted({item.model for item in items})
    cells = {}
    for model in models:
        mine = [item for item in items if item.model == model]
        cells[(model, ALL)] = _cell(model, ALL, mine, resamples, seed)
        for task in tasks:
            cells[(model, task)] = _cell(model, task, [i for i in mine if i.domain == task], resamples, seed)
    controls = {item.model for item in items if item.control}
    ranked = sorted((m for m in models if m not in controls),
                    key=lambda m: (-cells[(m, ALL)].rate if not math.isnan(cells[(m, ALL)].rate) else 1.0, m))
    order = {name: i for i, name in enumerate(CONTROL_MODELS)}
    return Leaderboard(Path(experiment_dir).name, policy, tasks, ranked,
                       sorted(controls, key=lambda m: (order.get(m, len(order)), m)),
                       {item.model for item in items if item.untrained}, cells, _agreements(items), items)
