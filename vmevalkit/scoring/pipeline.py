"""Score every finished item of an experiment and append one row per (model, question, sample) to scores.jsonl.

Scorers: `exact` (the built-in task's own checker, for questions whose metadata names a task),
`similarity` (task-agnostic, needs an expected final frame), `vlm` (a judge endpoint) and `auto`
(exact where the task is built in, else similarity). Videos are mapped back to the question's
geometry first. A rerun skips items already scored by the same scorer version on the same video
(by sha256), so it resumes after an interruption and re-scores only regenerated videos; failed
VLM requests are retried on the next run. Processes scoring the same experiment take turns (a lock
file), so none appends a row another has already written.
"""

from __future__ import annotations

import os
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Protocol

from vmevalkit.errors import UserError
from vmevalkit.hashing import sha256_file
from vmevalkit.locks import file_lock
from vmevalkit.questions import Question
from vmevalkit.results import ResultItem, iter_items
from vmevalkit.scoring import SCORER_CHOICES
from vmevalkit.scoring.base import Score
from vmevalkit.scoring.rows import append_row, latest_rows, make_row, read_rows
from vmevalkit.scoring.similarity import SimilarityScorer
from vmevalkit.scoring.vlm import EndpointError
from vmevalkit.tasks import all_tasks
from vmevalkit.tasks.base import Task
from vmevalkit.video import Video


SCORES_LOCK = ".scores.lock"  # held while scoring, so processes scoring one experiment never duplicate rows


class ItemScorer(Protocol):
    name: str  # the row's "scorer"
    version: str
    retry_errors: bool  # whether a row with an error is tried again on the next run
    last_frames: int | None  # how many of the video's last frames it reads (None: all)

    def score(self, question: Question, video: Video) -> Score: ...


class ExactScorer:
    """A built-in task's own checker."""

    name = "exact"
    retry_errors = False
    last_frames = None

    def __init__(self, task: Task):
        self.task = task
        self.version = task.scorer_version

    def score(self, question: Question, video: Video) -> Score:
        return self.task.score(question, video)


def builtin_task(question: Question) -> Task | None:
    return all_tasks().get(question.metadata.get("task", ""))


def answer_video(item: ResultItem, last_frames: int | None = None) -> Video:
    """The item's video (its last `last_frames` frames) mapped back to the question's geometry."""
    video = item.video()
    if last_frames is not None and video.num_frames > last_frames:
        video = Video(video.frames[-last_frames:], video.fps)
    fit = item.fit()
    return fit.invert_video(video) if fit else video


@dataclass
class ScoringSummary:
    scored: int = 0
    already_scored: int = 0
    errors: list[str] = field(default_factory=list)  # "model question: message" for rows with an error
    not_applicable: list[str] = field(default_factory=list)  # items the chosen scorer cannot judge
    unfinished: list[str] = field(default_factory=list)  # items whose generation failed or never finished

    def lines(self) -> list[str]:
        out = [f"scored {self.scored} item(s); {self.already_scored} already scored"]
        if self.unfinished:
            out.append(f"{len(self.unfinished)} item(s) have no finished video (failed or unfinished): "
                       + ", ".join(self.unfinished[:5]) + (" ..." if len(self.unfinished) > 5 else ""))
        if self.not_applicable:
            out.append(f"{len(self.not_applicable)} item(s) skipped: " + "; ".join(self.not_applicable[:5])
                       + (" ..." if len(self.not_applicable) > 5 else ""))
        for error in self.errors:
            out.append(f"error: {error}")
        return out


def pick_scorer(choice: str, item: ResultItem, question: Question, judge: ItemScorer | None) -> ItemScorer | str:
    """The scorer for one item under `choice`, or a message saying why none applies."""
    task = builtin_task(question)
    if choice == "vlm":
        if judge is None:
            raise ValueError("scorer 'vlm' needs a judge")
        return judge if question.final_frame is not None else "no final_frame.png for the judge to compare with"
    if choice == "similarity" or (choice == "auto" and task is None):
        fit = item.fit()
        return SimilarityScorer(fit.scaled_size if fit else None)
    if task is None:
        return f"question metadata names no built-in task ({question.metadata.get('task')!r})"
    return ExactScorer(task)


@dataclass(frozen=True)
class _Job:
    item: ResultItem
    question: Question
    scorer: ItemScorer
    video_sha256: str

    @property
    def label(self) -> str:
        return self.item.label


def _jobs(root: Path, choice: str, judge: ItemScorer | None, summary: ScoringSummary) -> Iterator[_Job]:
    """The items still to score under `choice`; the others are counted in `summary`."""
    done = latest_rows(read_rows(root))
    for item in iter_items(root):
        label = item.label
        if not item.ok or not item.video_path.is_file():
            summary.unfinished.append(label)
            continue
        try:
            item.check_video()
        except UserError as e:  # reported on every run until `vmevalkit run` redoes the item
            summary.errors.append(f"{label}: {e}; rerun `vmevalkit run` to redo it")
            continue
        try:
            question = item.question()
        except UserError as e:
            summary.errors.append(f"{label}: {e}")
            continue
        scorer = pick_scorer(choice, item, question, judge)
        if isinstance(scorer, str):
            summary.not_applicable.append(f"{label}: {scorer}")
            continue
        sha = sha256_file(item.video_path)
        previous = done.get((*item.key, scorer.name))
        if (previous and previous.get("video_sha256") == sha and previous.get("version") == scorer.version
                and (previous.get("error") is None or not scorer.retry_errors)):
            summary.already_scored += 1
            continue
        yield _Job(item, question, scorer, sha)


def _judge(job: _Job) -> Score:
    try:
        return job.scorer.score(job.question, answer_video(job.item, job.scorer.last_frames))
    except EndpointError:
        raise
    except Exception as e:  # one bad video or a scorer bug must not stop the batch; it is recorded
        return Score(job.scorer.name, job.scorer.version, None, error=f"{type(e).__name__}: {e}")


def score_experiment(experiment_dir: str | os.PathLike, choice: str = "auto", judge: ItemScorer | None = None,
                     log: Callable[[str], None] = lambda line: None, workers: int = 1) -> ScoringSummary:
    """Score every finished item of the experiment with `choice`, appending rows; see the module doc.

    `workers` items are scored at once (threads: worth it for a VLM endpoint that batches requests)."""
    root = Path(experiment_dir)
    if choice not in SCORER_CHOICES:
        raise UserError(f"unknown scorer {choice!r}; choose one of {', '.join(SCORER_CHOICES)}")
    if not root.is_dir():
        raise UserError(f"{root}: experiment folder not found; run `vmevalkit run` first or check --output-dir")
    if next(iter_items(root), None) is None:
        raise UserError(f"{root}: no results found (expected <model>/<domain>_task/<question>/metadata.json)")
    summary = ScoringSummary()

    def record(job: _Job, score: Score) -> None:
        append_row(root, make_row(job.item, job.scorer.name, job.scorer.version, score, job.video_sha256,
                                  job.question.metadata.get("task")))
        summary.scored += 1
        if score.error:
            summary.errors.append(f"{job.label}: {score.error}")
        verdict = "error" if score.correct is None else "correct" if score.correct else "wrong"
        log(f"{job.scorer.name:<12} {job.label}: {verdict}" + (f" ({score.score:.2f})" if score.score is not None
                                                                  else ""))

    def finish(pending: dict[Future, _Job], until: str) -> None:
        finished, _ = wait(pending, return_when=until)
        for future in finished:
            job = pending.pop(future)
            try:
                record(job, future.result())
            except EndpointError:
                for other in pending:
                    other.cancel()
                raise

    waiting = lambda: log("another process is scoring this experiment; waiting for it")  # noqa: E731
    with file_lock(root / SCORES_LOCK, waiting), ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: dict[Future, _Job] = {}
        for job in _jobs(root, choice, judge, summary):
            pending[pool.submit(_judge, job)] = job
            if len(pending) >= 2 * max(1, workers):  # bounded, so questions are not all held in memory
                finish(pending, FIRST_COMPLETED)
        finish(pending, ALL_COMPLETED)
    return summary
