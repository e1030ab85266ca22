"""The leaderboard of an experiment: models x tasks success rates from its items and score rows.

An item is one (model, question, sample). Each item counts once, with one verdict: under the `auto` policy, the first scorer kind in
SCORER_PRECEDENCE that judged it (a built-in task's exact checker, then a human, then a VLM judge,
then the similarity scorer); otherwise the named scorer (`human`, `similarity`, `vlm` or a full
name such as `vlm:qwen2-vl`). Items with no verdict (failed generation, not yet scored, or only
scorer errors) are counted as unscored, never as right or wrong. Rows about an earlier video of the
item (its sha256 differs from the video now on disk) are ignored. The controls (`oracle`, `static`,
or any model the runner recorded as kind "control") are reference rows, not ranked; models with
random weights (metadata "untrained") are ranked but labelled.

Rates are over questions: a question's samples are averaged first (its pass@1), and bootstrap
intervals resample questions (within each task), never samples; with one sample per question that
is the plain share of items. Consistency (whether the parts a task must leave alone stayed put) is
a rate of its own beside the success rate, read from the first scorer in SCORER_PRECEDENCE that
checked it, whatever the policy; with several samples, pass@k is estimated for the k asked.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, Callable, Iterable

from vmevalkit.errors import UserError
from vmevalkit.hashing import sha256_file
from vmevalkit.report.passk import PassAtK, choose_ks, estimate
from vmevalkit.report.stats import Agreement, agreement, mean_interval
from vmevalkit.results import iter_items
from vmevalkit.scoring.rows import about_video, latest_rows, read_rows, scorer_kind

SCORER_PRECEDENCE = ("exact", "human", "vlm", "similarity")
CONTROL_MODELS = ("oracle", "static")
ALL = "all"  # the column over every task


@dataclass
class ItemResult:
    """One (model, question, sample) item with the latest row of every scorer that judged it."""

    model: str
    question: str
    domain: str
    control: bool
    untrained: bool
    folder: Path
    video: Path | None  # None when the model produced no video
    sample: int = 0
    samples: int = 1  # how many samples of the question the run asked for
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    chosen: dict[str, Any] | None = None  # the row that counts on the leaderboard

    @property
    def verdict(self) -> bool | None:
        return None if self.chosen is None else self.chosen["correct"]

    @property
    def consistent(self) -> bool | None:
        """Whether the parts the task must leave alone stayed put, by the first scorer (in precedence order)
        that checked it; None where none did."""
        checked = by_precedence(r for r in self.rows.values() if r.get("consistent") is not None)
        return checked[0]["consistent"] if checked else None


@dataclass(frozen=True)
class Rate:
    """A share of items over questions: each question's judged samples averaged first, then the questions;
    the bootstrap interval resamples questions within each task."""

    hits: int = 0
    judged: int = 0  # items (samples) with a reading
    questions: int = 0  # questions with at least one
    value: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")


def question_rate(readings: dict[str, dict[str, list[bool]]], resamples: int, seed: int) -> Rate:
    """The Rate of `readings` {task: {question: [reading of each judged sample]}}."""
    groups = [[sum(r) / len(r) for r in questions.values() if r] for questions in readings.values()]
    counted = sum(len(g) for g in groups)
    if not counted:
        return Rate()
    hits = sum(sum(r) for questions in readings.values() for r in questions.values())
    judged = sum(len(r) for questions in readings.values() for r in questions.values())
    return Rate(hits, judged, counted, sum(sum(g) for g in groups) / counted, *mean_interval(groups, resamples, seed))


@dataclass
class Cell:
    model: str
    task: str
    success: Rate = field(default_factory=Rate)
    consistency: Rate = field(default_factory=Rate)  # judged = items whose consistency was checked
    unscored: int = 0
    scorers: Counter = field(default_factory=Counter)

    @property
    def correct(self) -> int:
        return self.success.hits

    @property
    def judged(self) -> int:
        return self.success.judged

    @property
    def rate(self) -> float:
        return self.success.value

    @property
    def low(self) -> float:
        return self.success.low

    @property
    def high(self) -> float:
        return self.success.high


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
    samples: int = 1  # the most samples per question any item was made with
    pass_ks: list[int] = field(default_factory=list)  # the k reported (none: one sample, none asked)
    pass_at: dict[tuple[str, str, int], PassAtK] = field(default_factory=dict)  # (model, task, k), k = 1..max

    @property
    def has_consistency(self) -> bool:
        """Whether any item's consistency was checked (else the report shows no consistency columns)."""
        return any(cell.consistency.judged for cell in self.cells.values())

    @property
    def rows(self) -> list[str]:
        return self.models + self.controls

    @property
    def scored(self) -> int:
        return sum(item.chosen is not None for item in self.items)


def is_control(model: str, metadata: dict[str, Any]) -> bool:
    return model in CONTROL_MODELS or (metadata.get("model_description") or {}).get("kind") == "control"


def by_precedence(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` in SCORER_PRECEDENCE order of their scorer's kind (then by name; unknown kinds last)."""
    rank = {kind: i for i, kind in enumerate(SCORER_PRECEDENCE)}
    return sorted(rows, key=lambda r: (rank.get(scorer_kind(r["scorer"]), len(rank)), r["scorer"]))


def choose_row(rows: dict[str, dict[str, Any]], policy: str = "auto") -> dict[str, Any] | None:
    """The row that decides an item under `policy` (see the module docstring), or None."""
    judged = [r for r in rows.values() if r.get("correct") is not None]
    if policy != "auto":
        judged = [r for r in judged if policy in (r["scorer"], scorer_kind(r["scorer"]))]
    judged = by_precedence(judged)
    return judged[0] if judged else None


def load_items(experiment_dir: str | os.PathLike, policy: str = "auto") -> list[ItemResult]:
    """Every item of the experiment with the rows about its current video; other rows are ignored."""
    by_item: dict[tuple[str, str, int], dict[str, dict[str, Any]]] = {}
    for (model, question, sample, scorer), row in latest_rows(read_rows(experiment_dir)).items():
        by_item.setdefault((model, question, sample), {})[scorer] = row
    items = []
    for item in iter_items(experiment_dir):
        has_video = item.ok and item.video_path.is_file()
        sha = sha256_file(item.video_path) if has_video else None
        rows = {name: row for name, row in by_item.get(item.key, {}).items()
                if sha is not None and about_video(row, sha)}
        items.append(ItemResult(
            model=item.model, question=item.question_key, domain=item.metadata["question"]["domain"],
            control=is_control(item.model, item.metadata), untrained=bool(item.metadata.get("untrained")),
            folder=item.folder,
            video=item.video_path if has_video else None, sample=item.sample, samples=item.samples, rows=rows,
            chosen=choose_row(rows, policy)))
    return items


def _readings(items: list[ItemResult], read: Callable[[ItemResult], bool | None]) -> dict[str, dict[str, list[bool]]]:
    """{task: {question: [read(item) for each of its items where that is not None]}}."""
    found: dict[str, dict[str, list[bool]]] = {}
    for item in items:
        value = read(item)
        questions = found.setdefault(item.domain, {})
        questions.setdefault(item.question, [])
        if value is not None:
            questions[item.question].append(bool(value))
    return found


def _cell(model: str, task: str, items: list[ItemResult], resamples: int, seed: int) -> Cell:
    cell = Cell(model, task, question_rate(_readings(items, lambda i: i.verdict), resamples, seed),
                question_rate(_readings(items, lambda i: i.consistent if i.verdict is not None else None),
                              resamples, seed))
    for item in items:
        if item.verdict is None:
            cell.unscored += 1
        else:
            cell.scorers[item.chosen["scorer"]] += 1
    return cell


def _pass_at(model: str, task: str, items: list[ItemResult], ks: list[int], resamples: int, seed: int
             ) -> dict[tuple[str, str, int], PassAtK]:
    """pass@k for k = 1..max(ks) (the plot draws the whole curve) from each question's judged samples."""
    per_task = {domain: [(len(r), sum(r)) for r in questions.values()]
                for domain, questions in _readings(items, lambda i: i.verdict).items()}
    return {(model, task, k): estimate(per_task, k, resamples, seed) for k in range(1, max(ks, default=0) + 1)}


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
                      seed: int = 0, pass_ks: list[int] | None = None) -> Leaderboard:
    """The leaderboard; `pass_ks` are the k to report pass@k for (default: 1 and the number of samples,
    when the questions have several)."""
    items = load_items(experiment_dir, policy)
    if not items:
        raise UserError(f"{experiment_dir}: no results found (expected <model>/<domain>_task/<question>/metadata.json)")
    scorers = {name for item in items for name in item.rows}
    if policy != "auto" and scorers and not any(policy in (s, scorer_kind(s)) for s in scorers):
        raise UserError(f"no verdicts from scorer {policy!r} in this experiment; it has: {', '.join(sorted(scorers))}")
    tasks = sorted({item.domain for item in items})
    models = sorted({item.model for item in items})
    samples = max(item.samples for item in items)
    ks = choose_ks(pass_ks, samples)
    cells, pass_at = {}, {}
    for model in models:
        mine = [item for item in items if item.model == model]
        for task, subset in [(ALL, mine), *((t, [i for i in mine if i.domain == t]) for t in tasks)]:
            cells[(model, task)] = _cell(model, task, subset, resamples, seed)
            pass_at.update(_pass_at(model, task, subset, ks, resamples, seed))
    controls = {item.model for item in items if item.control}
    ranked = sorted((m for m in models if m not in controls),
                    key=lambda m: (-cells[(m, ALL)].rate if not math.isnan(cells[(m, ALL)].rate) else 1.0, m))
    order = {name: i for i, name in enumerate(CONTROL_MODELS)}
    return Leaderboard(Path(experiment_dir).name, policy, tasks, ranked,
                       sorted(controls, key=lambda m: (order.get(m, len(order)), m)),
                       {item.model for item in items if item.untrained}, cells, _agreements(items), items,
                       samples, ks, pass_at)
