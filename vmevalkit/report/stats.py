"""Success rates with bootstrap intervals, and agreement between two scorers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 10_000
SEED = 0


def bootstrap_interval(groups: list[tuple[int, int]], resamples: int = RESAMPLES, seed: int = SEED,
                       confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile bootstrap interval of the success rate over items in `groups` [(correct, judged), ...].

    Items are resampled with replacement within each group (a stratified bootstrap, so every task
    keeps its number of items); for pass/fail items that is a binomial draw per group. Seeded, so a
    report is reproducible. With 0 or all items correct the interval collapses onto the rate."""
    groups = [(c, n) for c, n in groups if n > 0]
    total = sum(n for _, n in groups)
    if total == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    hits = sum(rng.binomial(n, c / n, size=resamples) for c, n in groups)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(hits / total, [tail, 100 - tail])
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
