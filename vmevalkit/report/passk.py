"""pass@k over several samples per question: the unbiased estimator, per question, averaged over questions.

With n judged samples of a question of which c are correct, the chance that k samples drawn without
replacement from those n hold at least one correct one is 1 - C(n-c, k) / C(n, k) (the estimator of
Chen et al., 2021, "Evaluating Large Language Models Trained on Code"); pass@1 is c / n, the mean over
samples. A task's pass@k is the mean over its questions with at least k judged samples, with a
bootstrap interval that resamples questions (never samples, which are not independent of their
question's).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

from vmevalkit.errors import UserError
from vmevalkit.report.stats import mean_interval


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimate of pass@k from n samples of which c are correct (1 <= k <= n, 0 <= c <= n)."""
    if not 1 <= k <= n or not 0 <= c <= n:
        raise ValueError(f"pass@k needs 1 <= k <= n and 0 <= c <= n, got n={n}, c={c}, k={k}")
    return 1.0 - comb(n - c, k) / comb(n, k)


@dataclass(frozen=True)
class PassAtK:
    """pass@k of one model on one task (or all), over the questions with at least k judged samples."""

    k: int
    value: float
    low: float
    high: float
    questions: int  # questions counted
    short: int  # questions left out: fewer than k judged samples


def estimate(per_task: dict[str, list[tuple[int, int]]], k: int, resamples: int, seed: int) -> PassAtK:
    """pass@k over the questions of `per_task` {task: [(judged, correct) per question]}, the interval
    stratified by task."""
    groups = [[pass_at_k(n, c, k) for n, c in questions if n >= k] for questions in per_task.values()]
    counted = sum(len(g) for g in groups)
    short = sum(len(questions) for questions in per_task.values()) - counted
    value = sum(sum(g) for g in groups) / counted if counted else float("nan")
    low, high = mean_interval(groups, resamples, seed)
    return PassAtK(k, value, low, high, counted, short)


def parse_ks(text: str) -> list[int]:
    """`1,3,5` -> [1, 3, 5] (sorted, each once); a UserError naming --pass-k for anything else."""
    try:
        ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise UserError(f"--pass-k {text!r}: give whole numbers separated by commas, e.g. --pass-k 1,3,5") from None
    if not ks or ks[0] < 1:
        raise UserError(f"--pass-k {text!r}: every k must be 1 or more, e.g. --pass-k 1,3,5")
    return ks


def choose_ks(asked: list[int] | None, most_samples: int) -> list[int]:
    """The k to report: those asked (each at most the largest number of samples), else 1 and, when the
    questions have several samples, that number; none when nothing was asked and there is one sample."""
    if asked is None:
        return [1, most_samples] if most_samples > 1 else []
    too_many = [k for k in asked if k > most_samples]
    if too_many:
        raise UserError(f"--pass-k {','.join(map(str, too_many))}: the items have at most {most_samples} "
                        f"sample(s) per question; ask for k <= {most_samples} (or run with --samples "
                        f"{max(too_many)})")
    return asked
