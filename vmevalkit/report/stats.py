"""Success rates and pass@k with bootstrap intervals over questions, and agreement between two scorers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 10_000
SEED = 0


def bootstrap_interval(groups: list[tuple[int, int]], resamples: int = RESAMPLES, seed: int = SEED,
                       confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile bootstrap interval of the success rate over pass/fail items in `groups`
    [(correct, judged), ...]: `mean_interval` with each item a 1 or a 0."""
    return mean_interval([[1.0] * c + [0.0] * (n - c) for c, n in groups], resamples, seed, confidence)


def mean_interval(groups: list[list[float]], resamples: int = RESAMPLES, seed: int = SEED,
                  confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of the values in `groups` (one value in [0, 1] per
    question, e.g. a verdict or a question's pass@k), resampling values with replacement within each
    group (a stratified bootstrap, so every task keeps its number of questions). Seeded, so a report is
    reproducible; with every value equal the interval collapses onto it.

    A resample only needs how often each distinct value is drawn: a multinomial, drawn as one binomial
    per value from the highest down, 0 taking what is left; for pass/fail values that is one binomial
    per group, the number correct."""
    groups = [g for g in groups if len(g)]
    total = sum(len(g) for g in groups)
    if total == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    sums = np.zeros(resamples)
    for values in groups:
        levels, counts = np.unique(np.append(np.asarray(values, np.float64), 0.0), return_counts=True)
        counts[0] -= 1  # the 0 added above, so that 0 is always the level that takes what is left
        left = np.full(resamples, len(values))
        for i in range(len(levels) - 1, 0, -1):
            drawn = rng.binomial(left, counts[i] / counts[:i + 1].sum())
            sums += levels[i] * drawn
            left -= drawn
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(sums / total, [tail, 100 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class Agreement:
    """How often two scorers gave the same verdict on the items both judged."""

    first: str
    second: str
    both_correct: int
    both_wrong: int
    only_first: int  # first said correct, second said wrong
    only_second: int

    @property
    def items(self) -> int:
        return self.both_correct + self.both_wrong + self.only_first + self.only_second

    @property
    def rate(self) -> float:
        return (self.both_correct + self.both_wrong) / self.items if self.items else float("nan")

    @property
    def kappa(self) -> float:
        """Cohen's kappa: agreement beyond chance given each scorer's pass rate (nan when both are constant)."""
        n = self.items
        if not n:
            return float("nan")
        p1 = (self.both_correct + self.only_first) / n
        p2 = (self.both_correct + self.only_second) / n
        chance = p1 * p2 + (1 - p1) * (1 - p2)
        return float("nan") if chance == 1 else (self.rate - chance) / (1 - chance)


def agreement(first: str, second: str, pairs: list[tuple[bool, bool]]) -> Agreement:
    """Tally (first's verdict, second's verdict) pairs."""
    return Agreement(first, second, sum(a and b for a, b in pairs), sum(not a and not b for a, b in pairs),
                     sum(a and not b for a, b in pairs), sum(b and not a for a, b in pairs))
